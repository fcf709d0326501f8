/**
 * A provider-side template's variables (`provider_variables`), as Twilio's Content API
 * takes them in ContentVariables: a flat map of text values. Its limits ("Using
 * Variables with Content Templates"): at most 100 variables, a name of at most 16
 * characters without spaces, a value of at most 1,600 characters (some fields take
 * fewer), never empty (its error 21656).
 */
export const PROVIDER_VARIABLE_NAME = /^[A-Za-z0-9_]{1,16}$/;
export const PROVIDER_VARIABLES_MAX = 100;
export const PROVIDER_VARIABLE_MAX_LENGTH = 1600;
