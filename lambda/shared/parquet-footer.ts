/**
 * The one hyparquet function the functions use, in a module of its own: parquet-counts.ts imports
 * this file on demand, so the Parquet reader is not evaluated at a cold start, and esbuild still
 * tree-shakes hyparquet to what this re-export needs (a dynamic import of 'hyparquet' itself would
 * bundle the whole package).
 */
export { parquetMetadataAsync } from 'hyparquet';
