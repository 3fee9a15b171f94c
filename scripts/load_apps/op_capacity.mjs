// Preloaded into tests/op/op.mjs by scripts/load_sessions.py (node --import):
// oidc-provider's development in-memory adapter keeps at most 1000 objects (an LRU). One
// sign-in stores about six (interactions, session, grant, authorization code, access
// token), so 200 sign-ins in flight at once overflow it and the oldest authorization codes
// are evicted before they are redeemed (the token endpoint then answers invalid_grant).
// This hook raises that capacity when the adapter module loads; nothing else changes.
import { register } from 'node:module';

register('data:text/javascript,' + encodeURIComponent(`
export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (url.endsWith('/oidc-provider/lib/adapters/memory_adapter.js')) {
    const source = String(result.source).replace('maxSize: 1000', 'maxSize: ' + (process.env.OP_LRU_SIZE || '100000'));
    return { ...result, source };
  }
  return result;
}`));
