// Library API: Exchange build parsing, the CU/SU table and exposure assessment.
export { parseBuild, compareBuild, formatBuild, type Build, type Precision } from './parse.js';
export { assessBuild, assessBuildString, type Assessment, type FamilyAssessment, type FamilyState, type CveAssessment } from './assess.js';
export { CUS, SUS, FAMILIES, FAMILY_IDS, SOURCES, PRODUCT_NAMES, type CuRow, type SuRow, type FamilyId, type ProductId } from './table.js';
