/**
 * The lane's shared stack: bootstrap.test.ts creates it through the tool and checks how; the
 * suites after it only need it there. Running bootstrap again is cheap when nothing changed
 * (one get, one apply) and makes each suite runnable alone (`npm run test:kind smoke`).
 */
import { runScript } from '../../helpers/cli.ts';
import { LANE_CLUSTER, kindClusters, kindConfig, laneEnv, laneStack, remember } from './support.ts';

export function ensureLaneStack(): void {
  if (!kindClusters().includes(LANE_CLUSTER)) remember(LANE_CLUSTER);
  const r = runScript('bootstrap.mts', ['--config', kindConfig(LANE_CLUSTER, laneStack())], laneEnv());
  if (r.code !== 0) throw new Error(`the lane's stack could not be bootstrapped (exit ${r.code}):\n${r.stderr}`);
}
