/** Moved to test/support/moto-seed.ts (one family of fixtures); kept for files that still import it here. */
export * from '../support/moto-seed';
