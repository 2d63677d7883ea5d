/**
 * drill/index.ts loads its steps (and with them the AWS SDK, the CDK app, the CLI and the
 * functions) only once the options parse and the prerequisites pass: `--help`, a refused option
 * and a missing tool answer without them.
 */
import type * as DrillIndex from '../../drill/index';

describe('drill entry point', () => {
  it('loads neither the steps nor the report writer when it is loaded', () => {
    jest.isolateModules(() => {
      jest.doMock('../../drill/steps', () => {
        throw new Error('drill/steps was loaded with drill/index');
      });
      jest.doMock('../../drill/report', () => {
        throw new Error('drill/report was loaded with drill/index');
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading the module is what is tested
      const drill = require('../../drill/index') as typeof DrillIndex;
      expect(drill.drillProgram().name()).toBe('drill');
    });
  });
});
