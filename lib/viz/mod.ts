/**
 * Figures, galleries, tables and notebook display (DESIGN decision 8).
 *
 * @module
 */
export * from "./display.ts";
export * from "./chart.ts";
export * from "./plots.ts";
export * from "./gallery.ts";
export * from "./tables.ts";
