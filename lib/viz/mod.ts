/**
 * Figures, galleries, tables and notebook display (docs/design.md, 'Display').
 *
 * @module
 */
export * from "../runtime/display.ts";
export * from "./chart.ts";
export * from "./plots.ts";
export * from "./gallery.ts";
export * from "./tables.ts";
export * from "./image.ts";
