/** Step 1: a Knowledge Base on a throwaway PostgreSQL, seeded with a known number of entries. */
import { createKbDatabase, startPostgres } from '../../harness/postgres';
import { KB_DATABASE, type DrillContext } from '../context';
import type { DrillStep } from '../runner';

export const seedStep: DrillStep<DrillContext> = {
  id: 'seed',
  title: 'Seed a Knowledge Base on PostgreSQL',
  async run(ctx, log) {
    ctx.pg = await startPostgres();
    const server = ctx.pg.server;
    log(
      `PostgreSQL ${server ? `${server.version} from ${server.dir} (found by ${server.source})` : ''} started on 127.0.0.1:${ctx.pg.port} (throwaway cluster in ${ctx.pg.dir})`,
    );
    await createKbDatabase(ctx.pg, KB_DATABASE, ctx.options.entries);
    const entries = Number(await ctx.pg.sql(KB_DATABASE, 'SELECT count(*) FROM knowledge_entries'));
    const cache = Number(await ctx.pg.sql(KB_DATABASE, 'SELECT count(*) FROM embedding_cache'));
    if (entries !== ctx.options.entries) {
      throw new Error(`seeded ${entries} entries, expected ${ctx.options.entries}`);
    }
    return {
      details: [`database ${KB_DATABASE}: ${entries} knowledge_entries, ${cache} embedding_cache rows`],
      figures: { entries, cache },
    };
  },
};
