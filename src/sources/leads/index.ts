/**
 * leadCRM-compatible lead intake (`POST /api/lead`), raw first, and the CRM operations on leads. See README.md in
 * this folder for the contract, the de-duplication rule and what is stored for every request.
 */
export type { LeadBody, LeadField, LeadStatus, RejectionReason } from './contract';
export { LEAD_FIELDS, LEAD_STATUSES } from './contract';
export type { LeadIntakeDeps, LeadOutcome } from './intake';
export { receiveLead } from './intake';
export type { RawLeadRequest } from './store';
export { storeRejectedRequest } from './store';
export type { RedriveOptions, RedriveResult } from './redrive';
export { redriveLeads } from './redrive';
export type { Actor, HistoryEntry, LeadChange, LeadDetail, LeadFilters, LeadPatch, LeadSummary } from './crm';
export { getLead, leadHistory, listLeads, updateLead } from './crm';
export { leadContribution } from './contribution';
