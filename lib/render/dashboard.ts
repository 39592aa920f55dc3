/**
 * The starter Grafana dashboard provisioned with monitoring: NATS and JetStream (from the
 * exporter's series), each component's scrape health, and Prometheus itself, so turning
 * monitoring on gives a working picture with no clicks. Built from the config: one row per
 * component that declares metrics.
 */
import type { Config } from '../config/schema.ts';

/** The provisioned data source's uid: the dashboard and the smoke's health check name it. */
export const DATASOURCE_UID = 'prometheus';

interface Panel {
  title: string;
  expr: string;
  unit?: string;
}

function timeseries(panel: Panel, index: number): Record<string, unknown> {
  return {
    id: index + 1,
    type: 'timeseries',
    title: panel.title,
    gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
    datasource: { type: 'prometheus', uid: DATASOURCE_UID },
    fieldConfig: { defaults: { unit: panel.unit ?? 'short' }, overrides: [] },
    targets: [{ refId: 'A', datasource: { type: 'prometheus', uid: DATASOURCE_UID }, expr: panel.expr }],
  };
}

export function starterDashboard(config: Config): Record<string, unknown> {
  const panels: Panel[] = [
    { title: 'Scrape targets up, by workload', expr: 'sum by (workload) (up{job="demon-pods"})' },
    { title: 'Prometheus: samples ingested per second', expr: 'rate(prometheus_tsdb_head_samples_appended_total[5m])' },
  ];
  if (config.nats.exporter.enabled) {
    panels.push(
      { title: 'NATS: client connections', expr: 'gnatsd_varz_connections' },
      {
        title: 'NATS: messages in and out per second',
        expr: 'rate(gnatsd_varz_in_msgs[5m]) or rate(gnatsd_varz_out_msgs[5m])',
      },
      {
        title: 'JetStream: memory used vs limit',
        expr: 'jetstream_server_total_memory or jetstream_server_max_memory',
        unit: 'bytes',
      },
      {
        title: `JetStream: messages in ${config.nats.streamName}`,
        expr: `jetstream_stream_total_messages{stream_name="${config.nats.streamName}"}`,
      },
    );
  }
  for (const component of config.components.filter((c) => c.metrics)) {
    panels.push({ title: `${component.name}: scrape up`, expr: `up{workload="${component.name}"}` });
  }
  return {
    uid: 'demon-overview',
    title: 'Demon overview',
    tags: ['demon'],
    timezone: 'utc',
    schemaVersion: 38,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    panels: panels.map(timeseries),
  };
}
