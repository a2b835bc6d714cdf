// Every parser format, rule set and scanner the engine runs. Add new ones here (one line each).
import type { TextLogFormat } from '../parsers/types.js';
import { ECP_ACTIVITY_FORMAT, ECP_SERVER_FORMAT, HTTPPROXY_FORMAT, OABGEN_FORMAT, RPS_CMDLET_FORMAT } from '../parsers/exchange.js';
import type { RecordRule } from '../rules/types.js';
import { HTTPPROXY_RULES } from '../rules/httpproxy.js';
import { ECP_RULES, OABGEN_RULES } from '../rules/ecp.js';
import { iisFormat } from '../parsers/iis.js';
import { IIS_RULES } from '../rules/iis.js';
import { fileSweepScanner } from './scanners/files.js';
import { evtxScanner } from './scanners/evtx.js';
import { iisConfigScanner } from './scanners/iis-config.js';
import { textLogScanner } from './scanners/textlog.js';
import type { Scanner } from './types.js';

export const TEXT_FORMATS: TextLogFormat[] = [HTTPPROXY_FORMAT, ECP_SERVER_FORMAT, ECP_ACTIVITY_FORMAT, RPS_CMDLET_FORMAT, OABGEN_FORMAT, iisFormat];

export const RECORD_RULES: RecordRule[] = [...HTTPPROXY_RULES, ...ECP_RULES, ...OABGEN_RULES, ...IIS_RULES];

export const SCANNERS: Scanner[] = [textLogScanner(TEXT_FORMATS, RECORD_RULES), evtxScanner, fileSweepScanner, iisConfigScanner];
