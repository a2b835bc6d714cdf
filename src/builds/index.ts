// Library API: Exchange build parsing, the CU/SU/CVE data (data/builds/) and exposure assessment.
export { parseBuild, compareBuild, formatBuild, type Build, type Precision } from './parse.js';
export {
  assessBuild, assessBuildString, productOf, supportState, requirementText,
  type Assessment, type AssessOptions, type FamilyAssessment, type FamilyState, type CveAssessment, type CveStatus, type SupportState,
} from './assess.js';
export { fixFor, cveState, type FixAnswer } from './fixes.js';
export {
  CUS, SUS, CVES, FAMILIES, FAMILY_IDS, ALL_FAMILIES, SOURCES, PRODUCT_NAMES, familyMeta, updateReleased,
  type CuRow, type SuRow, type CveRow, type FamilyId, type FamilyMeta, type ProductId, type Requirement,
} from './table.js';
