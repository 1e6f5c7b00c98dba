// The automated response's pages: block decisions with what an analyst may do to
// each (approve or deny what waits, carry a dry-run out, lift what is in force), and
// blocking by hand. The responder carries decisions out; the allowlist is checked
// when they are made, approved and carried out.
'use strict';

// A decision's reason in the page's language, rebuilt from the responder's sentence
// (kept in the audit log as written): policy, incident, score, target, time, and the
// known endings; anything else is shown as written.
function blockReason(b) {
  if (state.lang !== 'vi') return b.reason;
  const r = b.reason;
  let m = r.match(/^blocked by hand by ([^:]+): ([\s\S]*)$/);
  if (m) return `chặn thủ công bởi ${m[1]}: ${m[2]}`;
  m = r.match(/^policy (\S+): incident #(\d+)(?: \(score (\d+), (\w+)\))? — (\w+) ([^\s;]+)(.*)$/);
  if (!m) return r;
  const [, policy, inc, score, sev, kind, target, rest] = m;
  const head = `chính sách ${policy}: sự cố #${inc}${score ? ` (điểm ${score}, ${t(sev)})` : ''} — ${t('tk_' + kind).replace(/ \(.*\)$/, '')} ${target}`;
  let tail = rest;
  const words = [
    [/^ is on allowlist (.+); not blocked$/, (x) => ` thuộc danh sách cho phép ${x[1]}; không chặn`],
    [/^; block (\d+)([smhd])/, (x) => `; chặn ${x[1]} ${{ s: 'giây', m: 'phút', h: 'giờ', d: 'ngày' }[x[2]]}`],
  ];
  let out = '';
  for (const [re, f] of words) { const x = tail.match(re); if (x) { out += f(x); tail = tail.slice(x[0].length); } }
  tail = tail.replace(/ \(repeat offender: (\d+) earlier\)/, ' (tái phạm: đã chặn $1 lần trước)')
    .replace(/; every alert comes from forwarded host logs \(the sender's word\): waits for approval/, '; mọi cảnh báo đến từ nhật ký máy chủ được chuyển tiếp (lời của bên gửi): chờ phê duyệt')
    .replace(/; rate limit reached \((\d+) automatic blocks in the last minute, limit (\d+) (overall|of policy \S+)\): waits for approval/,
      (_, n, l, sc) => `; vượt ngưỡng (${n} lần chặn tự động trong phút qua, giới hạn ${l} ${sc === 'overall' ? 'toàn hệ thống' : 'của chính sách ' + sc.slice(10)}): chờ phê duyệt`);
  return head + out + tail;
}

function blockState(st) { return h('span', { class: `block ${st}`, 'data-state': st }, t(st)); }

// Decisions with the buttons an analyst may press: approve or deny what waits, unblock
// what is in force. Each asks for a reason, kept in the audit log.
function blockTable(rows, withIncident) {
  if (!rows.length) return h('p', { class: 'muted' }, t('no_blocks'));
  const canTriage = state.me.role !== 'viewer';
  const ask = (b, what) => async () => {
    const reason = window.prompt(`${t(what)} ${b.target} — ${t('why')}`, '');
    if (reason === null) return;
    try { await api('POST', `/api/v1/blocks/${b.id}/${what === 'unblock' ? 'undo' : what}`, { reason }); route(true); } catch (e) { toast(e.message); }
  };
  const buttons = (b) => {
    const out = [];
    if (b.state === 'dry-run') out.push(h('button', { class: 'primary', 'data-block-action': 'approve', disabled: !canTriage, title: t('carry_out_hint'), on: { click: ask(b, 'approve') } }, t('carry_out')));
    if (b.state === 'awaiting-approval' || b.state === 'rate-limited') {
      out.push(h('button', { class: 'primary', 'data-block-action': 'approve', disabled: !canTriage, on: { click: ask(b, 'approve') } }, t('approve')), ' ',
        h('button', { 'data-block-action': 'deny', disabled: !canTriage, on: { click: ask(b, 'deny') } }, t('deny')));
    }
    if (b.state === 'executed') out.push(h('button', { class: 'danger', 'data-block-action': 'unblock', disabled: !canTriage, on: { click: ask(b, 'unblock') } }, t('unblock')));
    return out;
  };
  const cols = ['decided_at', 'state', 'target', 'action', 'policy', 'mode', 'expires', 'decided_by', 'reason', ''];
  // Only a block that took effect expires; a dry-run, a skip or a denial never does,
  // and one waiting (approval, or the responder) starts its time when carried out.
  const expires = (b) => (['executed', 'expired', 'undoing', 'undone'].includes(b.state) && b.expires_at ? fmtTime(b.expires_at) : '—');
  if (withIncident) cols.splice(2, 0, 'incident');
  return h('table', { class: 'blocks' }, h('thead', {}, h('tr', {}, ...cols.map((k) => h('th', {}, k ? t(k) : '')))),
    h('tbody', {}, ...rows.map((b) => {
      const cells = [h('td', { class: 'when' }, fmtTime(b.created_at)), h('td', {}, blockState(b.state)), h('td', {}, h('span', { class: 'mono' }, b.target), h('div', { class: 'muted' }, t(b.policy === 'manual' ? (b.target_kind === 'domain' ? 'tk_domain' : 'tk_address') : `tk_${b.target_kind}`))),
        h('td', {}, `${b.action} (${b.action_kind})`), h('td', {}, b.policy), h('td', {}, t(b.mode === 'approve' ? 'approve_mode' : b.mode === 'manual' ? 'manual_mode' : b.mode)),
        h('td', { 'data-expires': '' }, expires(b)), h('td', {}, b.decided_by || ''), h('td', { 'data-reason': '' }, blockReason(b), b.last_error ? h('div', { class: 'error' }, b.last_error) : ''),
        h('td', {}, ...buttons(b))];
      if (withIncident) cells.splice(2, 0, h('td', {}, b.incident_id ? h('a', { href: `#/incidents/${b.incident_id}` }, `#${b.incident_id}`) : ''));
      return h('tr', { 'data-block': String(b.id) }, ...cells);
    })));
}

async function blocksPage() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const sel = h('select', { name: 'state', id: 'block-state' }, h('option', { value: '' }, t('all')),
    ...['executed', 'approved', 'awaiting-approval', 'rate-limited', 'dry-run', 'skipped-allowlist', 'failed', 'expired', 'undone', 'denied'].map((k) => h('option', { value: k }, t(k))));
  sel.value = params.get('state') || '';
  sel.addEventListener('change', () => { location.hash = sel.value ? `#/blocks?state=${encodeURIComponent(sel.value)}` : '#/blocks'; });
  const q = sel.value ? `?state=${encodeURIComponent(sel.value)}` : '';
  const [rows, choices] = await Promise.all([api('GET', `/api/v1/blocks${q}`), api('GET', '/api/v1/blocks/actions')]);
  render(h('h1', {}, t('blocks')), manualBlockForm(choices.actions, params),
    h('div', { class: 'filters panel' }, h('label', {}, t('state'), sel)), h('div', { id: 'blocks' }, blockTable(rows, true)));
}

// Blocking by hand: target, action, time, reason, and the incident it answers. The
// server checks the allowlist and the action; a refusal is shown under the form.
function manualBlockForm(actions, params) {
  if (state.me.role === 'viewer') return null;
  if (!actions.length) return h('div', { class: 'panel muted', id: 'manual-block' }, t('no_block_actions'));
  const f = {
    target: h('input', { name: 'target', size: 22, required: true, placeholder: '203.0.113.9 / evil.example', value: params.get('target') || '' }),
    action: h('select', { name: 'action' }, ...actions.map((a) => h('option', { value: a.name }, `${a.name} (${a.kind}${a.takes_domains ? '' : ', ' + t('addresses_only')})`))),
    ttl: h('select', { name: 'ttl' }, ...[['1h', '1 h'], ['6h', '6 h'], ['24h', '24 h'], ['7d', '7 d'], ['30d', '30 d'], ['0', t('until_lifted')]].map(([v, l]) => h('option', { value: v }, l))),
    reason: h('input', { name: 'reason', size: 36, required: true }),
    incident: h('input', { name: 'incident', type: 'number', min: 1, size: 6, value: params.get('incident') || '' }),
  };
  // What the analyst typed and the last refusal outlive a reload of the page (live
  // updates re-render it): kept in `state.manualBlock` until a block is made.
  const keep = state.manualBlock || (state.manualBlock = { ttl: '24h' });
  for (const [k, el] of Object.entries(f)) {
    if (keep[k] !== undefined && !(k === 'target' && params.get('target'))) el.value = keep[k];
    el.addEventListener(el.tagName === 'SELECT' ? 'change' : 'input', () => { keep[k] = el.value; });
  }
  const err = h('div', { class: 'error', id: 'manual-block-error', role: 'alert' }, keep.error || '');
  const form = h('form', { class: 'filters', on: { submit: async (ev) => {
    ev.preventDefault();
    err.textContent = keep.error = '';
    const body = { target: f.target.value.trim(), action: f.action.value, ttl: f.ttl.value, reason: f.reason.value.trim(), incident: f.incident.value ? Number(f.incident.value) : null };
    try {
      const b = await api('POST', '/api/v1/blocks', body);
      toast(`${t('blocked_by_hand')} ${b.target} (#${b.id})`);
      state.manualBlock = null;
      route(true);
    } catch (e) {
      keep.error = e.message;
      const shown = document.getElementById('manual-block-error');
      if (shown) shown.textContent = e.message;
    }
  } } },
  h('label', {}, t('target'), f.target), h('label', {}, t('action'), f.action), h('label', {}, t('duration'), f.ttl),
  h('label', {}, t('reason'), f.reason), h('label', {}, t('incident'), f.incident), h('button', { class: 'danger', type: 'submit', id: 'manual-block-submit' }, t('block_now')));
  return h('div', { class: 'panel', id: 'manual-block' }, h('h2', {}, t('manual_block')), form, err);
}
