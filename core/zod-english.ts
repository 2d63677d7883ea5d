/**
 * English issue messages for the zod/mini schemas. zod/mini (a few KiB per bundle, against zod
 * classic's 445 KiB) loads no locale: without one every issue reads "Invalid input". Every module
 * that defines or parses a schema imports this file for its side effect, so any bundle that can
 * produce an issue has the English locale (about 5 KiB) installed before its first parse.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());
