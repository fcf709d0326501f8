/** Why a rule cannot become SQL (journey-only conditions, unknown segments). */
export class CompileError extends Error {}
