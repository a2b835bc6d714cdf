// The rule set: every text-log format and the rules that read them. The engine and the rule catalogue read it.
import type { TextLogFormat } from '../parsers/types.js';
import { ECP_ACTIVITY_FORMAT, ECP_SERVER_FORMAT, HTTPPROXY_FORMAT, OABGEN_FORMAT, RPS_CMDLET_FORMAT } from '../parsers/exchange.js';
import { iisFormat } from '../parsers/iis.js';
import type { RecordRule } from './types.js';
import { HTTPPROXY_RULES } from './httpproxy.js';
import { ECP_RULES, OABGEN_RULES } from './ecp.js';
import { IIS_RULES } from './iis.js';

export const TEXT_FORMATS: TextLogFormat[] = [HTTPPROXY_FORMAT, ECP_SERVER_FORMAT, ECP_ACTIVITY_FORMAT, RPS_CMDLET_FORMAT, OABGEN_FORMAT, iisFormat];

export const RECORD_RULES: RecordRule[] = [...HTTPPROXY_RULES, ...ECP_RULES, ...OABGEN_RULES, ...IIS_RULES];
