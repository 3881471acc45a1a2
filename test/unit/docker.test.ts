// No Docker engine here: check what can be checked without one. The compose file parses, its
// services name Dockerfiles that exist, and every COPY source in them exists in the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, basename } from 'node:path';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;

/** Files matching a Dockerfile-style source: a path whose last segment may hold `*` (Node 20 has no globSync). */
function glob(pattern: string): string[] {
  const dir = dirname(pattern);
  const name = basename(pattern);
  if (!name.includes('*')) return existsSync(`${root}${pattern}`) ? [pattern] : [];
  if (!existsSync(`${root}${dir}`)) return [];
  const re = new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return readdirSync(`${root}${dir}`).filter((f) => re.test(f)).map((f) => `${dir}/${f}`);
}

test('docker-compose.yml parses and its services build from existing Dockerfiles', () => {
  const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'));
  assert.ok(compose.services.server, 'a server service');
  for (const [name, svc] of Object.entries<{ build: { context: string; dockerfile: string }; environment?: Record<string, string> }>(compose.services)) {
    assert.ok(existsSync(`${root}${svc.build.context}/${svc.build.dockerfile}`), `${name}: ${svc.build.dockerfile} exists`);
  }
  const env = compose.services.server.environment;
  assert.equal(env.HOST, '0.0.0.0', 'the server must listen on all interfaces inside the container');
  for (const key of ['RS_ARENA_ADMIN_KEY', 'RS_ARENA_CLIENT_KEY']) assert.match(env[key], /:\?/, `${key} is required, not defaulted`);
  // The attacker reaches the server by its service name, once the server is healthy, with the client key.
  const client = compose.services.client;
  assert.ok(client, 'a client service');
  assert.equal(client.environment.RS_ARENA_ENDPOINT, `http://server:${env.PORT}`);
  assert.equal(client.depends_on.server.condition, 'service_healthy');
  assert.match(client.environment.RS_ARENA_KEY, /RS_ARENA_CLIENT_KEY/);
  assert.equal(client.command[0], 'attack');
});

for (const file of glob('docker/*.Dockerfile')) {
  test(`${file}: every COPY source exists and the entry point is a real file`, () => {
    const text = readFileSync(`${root}${file}`, 'utf8');
    const copies = [...text.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].map((m) => m[1].trim().split(/\s+/).slice(0, -1));
    assert.ok(copies.length > 0);
    for (const sources of copies) {
      for (const src of sources) assert.ok(glob(src).length > 0, `${file}: COPY source ${src} matches nothing`);
    }
    // The program started: the first script named by an exec-form ENTRYPOINT, else CMD.
    const forms = [/^ENTRYPOINT\s+(\[.*\])$/m.exec(text), /^CMD\s+(\[.*\])$/m.exec(text)].filter((m) => m !== null);
    assert.ok(forms.length > 0, 'an exec-form ENTRYPOINT or CMD');
    const script = forms.flatMap((m) => JSON.parse(m[1]) as string[]).find((a) => /\.(ts|mjs|js)$/.test(a));
    assert.ok(script && existsSync(`${root}${script}`), `entry point ${script} exists`);
    assert.match(text, /onnxruntime_node_install=skip/, 'offline-safe onnxruntime install');
  });
}
