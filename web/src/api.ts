// The REST API (docs/api.md) as seen by the portal: same-origin fetch with the session cookie.
export interface Money {
  amount: string;
  currency: string;
  micros: number;
}
export interface Entity {
  id: number;
  name: string;
  quota: Record<string, number>;
  created_at: string;
}
export interface User {
  id: number;
  name: string;
  entity: string | null;
  role: "member" | "entity-admin" | "platform-admin";
  from_directory?: boolean; // made at a single sign-on by a directory group
  disabled_at?: string | null; // disabled by an administrator (tokens refused, no sign-in)
}
// A directory group whose members get an account at their first single sign-on.
export interface GroupMapping {
  id: number;
  group: string;
  entity: string;
  role: "member" | "entity-admin";
  created_by: string | null;
  created_at: string;
}
export interface WhoAmI {
  user: User | null;
  entity: Entity | null;
}
// How one may sign in here (GET /api/v1/auth/providers): single sign-on when configured, and
// whether signing out also signs out of the provider (logout_url).
export interface Providers {
  oidc: { name: string; login_url: string; logout_url?: string | null } | null;
}
// One of a user's tokens (GET /api/v1/users/{name}/tokens): never the secret.
export interface TokenInfo {
  id: number;
  created_at: string;
  expires_at: string | null;
  expired: boolean;
  session?: boolean; // a session: made by single sign-on or by `gpuaas login`
}
// One line of the audit trail (GET /api/v1/audit).
export interface AuditEntry {
  seq: number;
  time: string;
  actor: string | null;
  role: User["role"] | null;
  entity: string | null;
  remote: string;
  method: string;
  path: string;
  status: number;
  prev: string;
  hash: string;
}
// A ready-made environment (GET /api/v1/environments): a container image of the group registry.
export interface Environment {
  name: string;
  image: string;
  description: string;
}

export interface GpuClass {
  name: string;
  model: string;
  memory_mb: number;
  hourly_rate: Money;
  speed: number;
}
export interface Gpu {
  index: number;
  uuid: string;
  model: string;
  gpu_class: string;
  memory_mb: number;
  state: string;
  job: number | null;
}
// Byte counters as last read and the rates over the interval before (null until two readings).
export interface NetworkTraffic {
  at: string;
  rx_bytes: number;
  tx_bytes: number;
  rx_bytes_per_s: number | null;
  tx_bytes_per_s: number | null;
}
export interface NodeInfo {
  id: number;
  name: string;
  state: string;
  simulated: boolean;
  labels: Record<string, string>;
  last_heartbeat: string | null;
  network?: NetworkTraffic | null;
  gpus: Gpu[];
}
// A job's GPU telemetry over its allocation (null before its devices were sampled twice).
export interface JobTelemetry {
  avg_util_pct: number;
  peak_mem_mb: number;
  energy_wh: number;
  idle_gpu_s: number;
  gpu_s_sampled: number;
  samples: number;
}
export interface Job {
  id: number;
  name: string;
  kind: string;
  state: string;
  entity: string;
  user: string;
  gpus: number;
  gpu_types: string[];
  gpu_type: string | null;
  node: string | null;
  gpu_ids: number[];
  walltime_s: number;
  command: string[];
  environment: string;
  submitted_at: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  reason: string;
  releasing: boolean;
  cost: Money;
  telemetry?: JobTelemetry | null;
  network?: NetworkTraffic | null; // a container job's own traffic
  queue_position?: number;
  estimated_start?: string | null;
  url?: string;
}
export interface EntityUsage {
  entity: string;
  gpu_seconds: Record<string, number>;
  cost_by_class?: Record<string, Money>;
  cost: Money;
  energy_kwh?: number;
  network?: { rx_bytes: number; tx_bytes: number };
}
// GET /api/v1/fairshare: where each visible entity stands in the fair-share order.
export interface FairShareStanding {
  entity: string;
  shares: number;
  share: number;
  usage_gpu_hours: number;
  usage: number;
  factor: number;
  delay_s: number;
  wait_ratio: number | null;
  late: boolean;
  queued_jobs: number;
}
export interface FairShare {
  queue_order: string;
  usage_delay_s: number;
  late_wait_ratio: number;
  wait_horizon_s: number;
  half_life_s: number;
  small_first_rate: number;
  small_first_delay_factor: number;
  entities: FairShareStanding[];
}
export interface Usage {
  from: string;
  to: string;
  entities: EntityUsage[];
}
export interface Estimate {
  estimated_start?: string | null;
  node?: string | null;
  gpu_type?: string | null;
  queue_position?: number;
  reason?: string;
  price?: Money;
  cost?: Money;
  rate?: Money;
}

export interface SizingOption {
  gpu_type: string;
  gpus: number;
  nodes: number;
  memory: { states_gb: number; activations_gb: number; overhead_gb: number; total_gb: number; gpu_gb: number };
  hours: number;
  gpu_hours: number;
  walltime_s: number;
  energy_kwh_max: number;
  max_concurrency: number;
  cost: Money;
  estimated_start: string | null;
  estimated_end: string | null;
  queue_position: number;
  reason: string;
}
export interface Sizing {
  entity: string;
  workload: { method: string; params: number; tokens?: number; epochs?: number; flops?: number; concurrency?: number; hours?: number };
  options: SizingOption[];
  fastest: number | null;
  cheapest: number | null;
  not_possible: { gpu_type: string; reason: string }[];
  assumptions: string[];
}

export const FINAL_STATES = ["succeeded", "failed", "cancelled", "preempted", "timed_out", "lost"];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// Called on every 401 (the session is gone): the app shows the sign-in page.
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(f: () => void): void {
  onUnauthenticated = f;
}

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = "application/json";
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    let code = "error";
    let message = res.statusText;
    try {
      const j = await res.json();
      code = j.error?.code ?? code;
      message = j.error?.message ?? message;
    } catch {
      /* not JSON */
    }
    if (res.status === 401 && path !== "/api/v1/session") onUnauthenticated();
    throw new ApiError(res.status, code, message);
  }
  return res;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await call(method, path, body);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export async function apiText(path: string): Promise<string> {
  return (await call("GET", path)).text();
}
