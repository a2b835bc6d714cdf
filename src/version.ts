import { packageText } from './packaged.js';

/** The package version, read once from package.json next to dist/ or src/ (or inside the executable). */
export const VERSION: string = (JSON.parse(packageText('package.json')) as { version: string }).version;
