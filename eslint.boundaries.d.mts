/** Types of eslint.boundaries.mjs (the layer table is read by test/architecture.test.ts). */
export declare const LAYERS: readonly (readonly string[])[];
export declare function boundaryBlocks(root: string): unknown[];
