/// The page's assets, embedded in the binary (no CDN, works offline). The script renders every string from the run
/// with `textContent` (never `innerHTML`), so hostile item or model text is shown as text; the server's
/// Content-Security-Policy allows only these same-origin files.
///
/// Conversations, trajectories and images are rendered generically as role-tagged text blocks by `renderMessages`
/// (the hook a richer renderer replaces).
enum Assets {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>judgepanel ui</title>
        <link rel="stylesheet" href="app.css" id="css">
        </head>
        <body>
        <header>
          <strong>judgepanel</strong>
          <nav><a href="#explore" id="nav-explore">Explore</a> <a href="#label" id="nav-label">Label</a> <a href="report" id="nav-report" hidden>Report</a></nav>
          <span id="status" role="status"></span>
        </header>
        <main>
        <section id="view-explore" hidden>
          <form id="filters" autocomplete="off">
            <input id="f-q" type="search" placeholder="id or text" aria-label="search">
            <label><input type="checkbox" id="f-disagree"> panel ≠ human</label>
            <label><input type="checkbox" id="f-flips"> order flips</label>
            <label><input type="checkbox" id="f-split"> panel split</label>
            <label><input type="checkbox" id="f-unlabelled"> unlabelled</label>
            <select id="f-judge" aria-label="judge"><option value="">any judge</option></select>
            <select id="f-reason" aria-label="reason"><option value="">any reason</option></select>
            <select id="f-meta-key" aria-label="meta key"><option value="">meta key</option></select>
            <input id="f-meta-value" placeholder="meta value" aria-label="meta value">
            <button type="submit" id="f-apply">Filter</button>
          </form>
          <div id="list-info"></div>
          <table id="list"><thead><tr><th>id</th><th>prompt</th><th>panel</th><th>human</th><th>split</th><th>flips</th><th>votes</th></tr></thead><tbody></tbody></table>
          <div id="pager"><button id="prev" type="button">‹ prev</button> <span id="page"></span> <button id="next" type="button">next ›</button></div>
          <article id="detail" hidden></article>
        </section>
        <section id="view-label" hidden>
          <div id="progress"><progress id="progress-bar" value="0" max="1"></progress> <span id="progress-text"></span></div>
          <div id="label-item">
            <h2>Prompt</h2>
            <div id="l-prompt" class="text"></div>
            <div id="l-pair" class="pair">
              <div><h2>A</h2><div id="l-first" class="text"></div></div>
              <div><h2>B</h2><div id="l-second" class="text"></div></div>
            </div>
            <div id="l-single" hidden><h2>Response</h2><div id="l-response" class="text"></div></div>
          </div>
          <div id="keys">
            <span id="keys-pair"><button type="button" data-choice="A">A better (A)</button> <button type="button" data-choice="B">B better (B)</button> <button type="button" data-choice="T">tie (T)</button></span>
            <span id="keys-score" hidden>score: keys 1–9</span>
            <span id="keys-check" hidden><button type="button" data-choice="Y">yes (Y)</button> <button type="button" data-choice="N">no (N)</button></span>
            <button type="button" id="undo">undo last (U)</button>
          </div>
          <div id="label-done" hidden>All items in this queue are labelled.</div>
        </section>
        </main>
        <script src="app.js" id="js"></script>
        </body>
        </html>

        """

    static let css = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
        header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1em; background: #23395d; color: #fff; }
        header a { color: #fff; margin-right: 1em; }
        main { padding: 1em; }
        #filters { display: flex; flex-wrap: wrap; gap: .6em; align-items: center; margin-bottom: .6em; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { border-bottom: 1px solid #ddd; padding: .3em .5em; text-align: left; vertical-align: top; }
        tbody tr { cursor: pointer; }
        tbody tr:hover { background: #eef3fb; }
        .text { white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid #ddd; padding: .6em;
                max-height: 40vh; overflow: auto; font-family: ui-monospace, monospace; font-size: 13px; }
        .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
        .vote { border: 1px solid #ccc; background: #fff; margin: .4em 0; padding: .4em; }
        .vote.bad { border-color: #c33; }
        .msg-role { font-weight: bold; }
        #detail { margin-top: 1em; border-top: 2px solid #23395d; padding-top: .6em; }
        #keys { margin-top: 1em; }
        #keys button { font-size: 15px; padding: .4em .9em; }
        #progress { margin-bottom: .6em; }
        .tag { display: inline-block; padding: 0 .4em; border-radius: 3px; background: #e3e3e3; margin-right: .3em; }

        """

    static let js = #"""
        'use strict';
        (function () {
          const token = new URLSearchParams(location.search).get('token') || '';
          const $ = (id) => document.getElementById(id);
          function el(tag, text, cls) {
            const e = document.createElement(tag);
            if (text !== undefined && text !== null) e.textContent = String(text);
            if (cls) e.className = cls;
            return e;
          }
          async function api(path, params, body) {
            const u = new URL(path, location.origin);
            u.searchParams.set('token', token);
            for (const [k, v] of Object.entries(params || {})) if (v !== '' && v !== false && v != null) u.searchParams.set(k, v === true ? '1' : v);
            const init = body ? { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {};
            const r = await fetch(u, init);
            const j = await r.json();
            if (!r.ok) throw new Error(j.error || r.status);
            return j;
          }
          function status(text) { $('status').textContent = text || ''; }

          // ---- Explore ----
          let page = 0;
          let renders = 0;
          const size = 50;
          function filters() {
            return {
              q: $('f-q').value, disagree: $('f-disagree').checked, flips: $('f-flips').checked, split: $('f-split').checked,
              unlabelled: $('f-unlabelled').checked, judge: $('f-judge').value, reason: $('f-reason').value,
              meta_key: $('f-meta-key').value, meta_value: $('f-meta-value').value,
            };
          }
          async function summary() {
            const s = await api('/api/summary');
            for (const j of s.judges) $('f-judge').appendChild(el('option', j)).value = j;
            for (const r of s.reasons) $('f-reason').appendChild(el('option', r)).value = r;
            for (const m of s.meta) $('f-meta-key').appendChild(el('option', m.key)).value = m.key;
            status(s.n_items + ' items, ' + s.n_votes + ' votes, ' + s.judges.length + ' judges');
            if (s.has_report) { $('nav-report').href = '/report?token=' + encodeURIComponent(token); $('nav-report').hidden = false; }
            // Filters given in the address (the report's links: ?flips=1, ?judge=NAME, ...) are applied once.
            const q = new URLSearchParams(location.search);
            for (const k of ['disagree', 'flips', 'split', 'unlabelled']) if (q.get(k) === '1') $('f-' + k).checked = true;
            for (const [k, id] of [['q', 'f-q'], ['judge', 'f-judge'], ['reason', 'f-reason'], ['meta_key', 'f-meta-key'], ['meta_value', 'f-meta-value']]) {
              const v = q.get(k);
              if (v) $(id).value = v;
            }
          }
          async function list() {
            const t0 = performance.now();
            const r = await api('/api/items', Object.assign(filters(), { page: page, size: size }));
            const body = $('list').tBodies[0];
            body.replaceChildren();
            for (const it of r.items) {
              const tr = el('tr');
              tr.dataset.id = it.id;
              tr.appendChild(el('td', it.id));
              tr.appendChild(el('td', it.prompt));
              tr.appendChild(el('td', it.panel ?? '—'));
              tr.appendChild(el('td', it.human ?? '—'));
              tr.appendChild(el('td', it.split ? 'split' : ''));
              tr.appendChild(el('td', it.flips.join(', ')));
              tr.appendChild(el('td', it.n_votes));
              tr.addEventListener('click', () => openItem(it.id));
              body.appendChild(tr);
            }
            const pages = Math.max(1, Math.ceil(r.total / size));
            $('page').textContent = 'page ' + (page + 1) + ' of ' + pages;
            $('list-info').textContent = r.total + ' matching items (' + Math.round(performance.now() - t0) + ' ms)';
            $('list-info').dataset.renders = String(++renders);
            $('prev').disabled = page === 0;
            $('next').disabled = page + 1 >= pages;
          }
          // The generic renderer of conversations: one role-tagged text block per message (a richer one hooks in here).
          function renderMessages(messages) {
            const box = el('div');
            for (const m of messages) {
              const d = el('div', null, 'text');
              d.appendChild(el('div', m.role, 'msg-role'));
              d.appendChild(el('div', m.content));
              box.appendChild(d);
            }
            return box;
          }
          function block(title, text) {
            const d = el('div');
            d.appendChild(el('h3', title));
            d.appendChild(el('div', text, 'text'));
            return d;
          }
          function renderVote(v) {
            const d = el('div', null, 'vote' + (v.status && v.status !== 'ok' ? ' bad' : ''));
            const head = el('div');
            for (const t of [v.judge, 'order ' + (v.order ?? '—'), 'sample ' + (v.sample ?? 0),
                             'verdict ' + (v.verdict ?? v.score ?? '—'), v.status ?? 'ok']) head.appendChild(el('span', t, 'tag'));
            if (v.reason) head.appendChild(el('span', 'reason: ' + v.reason, 'tag'));
            d.appendChild(head);
            if (v.error) d.appendChild(el('div', v.error));
            d.appendChild(el('div', v.raw ?? '', 'text'));
            return d;
          }
          async function openItem(id) {
            const r = await api('/api/item', { id: id });
            const box = $('detail');
            box.replaceChildren();
            box.hidden = false;
            const it = r.item;
            box.appendChild(el('h2', 'item ' + it.id));
            if (it.messages) box.appendChild(renderMessages(it.messages));
            else box.appendChild(block('prompt', it.prompt ?? ''));
            if (it.response_a !== undefined) {
              const pair = el('div', null, 'pair');
              pair.appendChild(block('response_a' + (it.model_a ? ' — ' + it.model_a : ''), it.response_a));
              pair.appendChild(block('response_b' + (it.model_b ? ' — ' + it.model_b : ''), it.response_b));
              box.appendChild(pair);
            } else if (it.response !== undefined) {
              box.appendChild(block('response' + (it.model ? ' — ' + it.model : ''), it.response));
            }
            const v = r.verdict;
            const facts = el('p');
            facts.appendChild(el('span', 'panel: ' + (v ? (v.verdict ?? v.score ?? 'abstained') : '—'), 'tag'));
            if (v && v.flips && v.flips.length) facts.appendChild(el('span', 'flips: ' + v.flips.join(', '), 'tag'));
            if (v && v.judges) for (const [j, x] of Object.entries(v.judges)) facts.appendChild(el('span', j + ': ' + (x ?? 'abstained'), 'tag'));
            facts.appendChild(el('span', 'item label: ' + (it.label ?? '—'), 'tag'));
            for (const l of r.labels) facts.appendChild(el('span', 'human ' + l.annotator + ': ' + l.label, 'tag'));
            box.appendChild(facts);
            // Both orders side by side, per judge and sample.
            const byOrder = { AB: [], BA: [], other: [] };
            for (const vote of r.votes) (byOrder[vote.order] || byOrder.other).push(vote);
            const cols = el('div', null, 'pair');
            for (const o of ['AB', 'BA']) {
              const c = el('div');
              c.appendChild(el('h3', o === 'AB' ? 'order AB (response_a shown first)' : 'order BA (response_b shown first)'));
              for (const vote of byOrder[o]) c.appendChild(renderVote(vote));
              cols.appendChild(c);
            }
            box.appendChild(cols);
            for (const vote of byOrder.other) box.appendChild(renderVote(vote));
            if (it.meta) box.appendChild(block('meta', JSON.stringify(it.meta, null, 2)));
            box.scrollIntoView();
          }

          // ---- Label ----
          let current = null;
          function showLabel(r) {
            $('progress-bar').max = Math.max(1, r.total);
            $('progress-bar').value = r.done;
            $('progress-text').textContent = r.done + ' / ' + r.total + ' labelled — annotator ' + r.annotator;
            $('undo').disabled = !r.can_undo;
            current = r.item || null;
            $('label-done').hidden = !r.finished;
            $('label-item').hidden = !!r.finished;
            $('keys').hidden = !!r.finished && !r.can_undo;
            if (!current) return;
            $('l-prompt').textContent = current.prompt;
            const pair = current.kind === 'pairwise';
            $('l-pair').hidden = !pair;
            $('l-single').hidden = pair;
            $('keys-pair').hidden = !pair;
            $('keys-score').hidden = current.kind !== 'pointwise';
            $('keys-check').hidden = current.kind !== 'checklist';
            if (pair) { $('l-first').textContent = current.first; $('l-second').textContent = current.second; }
            else $('l-response').textContent = current.response;
          }
          let busy = false;
          async function send(choice) {
            if (!current || busy) return;
            busy = true;
            try { showLabel(await api('/api/label', {}, { key: current.key, choice: choice })); status(''); }
            catch (e) { status('not saved: ' + e.message); }
            finally { busy = false; }
          }
          async function undo() {
            if (busy) return;
            busy = true;
            try { showLabel(await api('/api/label/undo', {}, {})); } catch (e) { status(e.message); } finally { busy = false; }
          }
          document.addEventListener('keydown', (ev) => {
            if (location.hash !== '#label' || ev.ctrlKey || ev.metaKey || ev.altKey) return;
            const k = ev.key.toUpperCase();
            if (k === 'U' || k === 'BACKSPACE') { ev.preventDefault(); undo(); return; }
            if (!current) return;
            if (current.kind === 'pairwise' && (k === 'A' || k === 'B' || k === 'T' || k === '1' || k === '2')) send(k);
            else if (current.kind === 'pointwise' && /^[1-9]$/.test(k)) send(k);
            else if (current.kind === 'checklist' && (k === 'Y' || k === 'N')) send(k);
          });
          for (const b of document.querySelectorAll('#keys button[data-choice]')) b.addEventListener('click', () => send(b.dataset.choice));
          $('undo').addEventListener('click', undo);

          // ---- Routing ----
          let exploreReady = false;
          async function route() {
            const view = location.hash === '#label' ? 'label' : 'explore';
            $('view-explore').hidden = view !== 'explore';
            $('view-label').hidden = view !== 'label';
            try {
              if (view === 'label') {
                // The blind view: the Explore view's DOM (models, verdicts) is removed, not hidden.
                $('list').tBodies[0].replaceChildren(); $('detail').replaceChildren(); status('');
                for (const id of ['f-judge', 'f-reason', 'f-meta-key']) while ($(id).options.length > 1) $(id).remove(1);
                exploreReady = false;
                showLabel(await api('/api/label/next'));
              } else {
                if (!exploreReady) { exploreReady = true; await summary(); }
                await list();
                const m = /^#item=(.+)$/.exec(location.hash);
                if (m) await openItem(decodeURIComponent(m[1]));
              }
            } catch (e) { status(e.message); }
          }
          $('filters').addEventListener('submit', (ev) => { ev.preventDefault(); page = 0; list().catch((e) => status(e.message)); });
          $('prev').addEventListener('click', () => { page = Math.max(0, page - 1); list(); });
          $('next').addEventListener('click', () => { page += 1; list(); });
          for (const a of ['nav-explore', 'nav-label']) $(a).addEventListener('click', (ev) => {
            ev.preventDefault(); history.replaceState(null, '', location.pathname + location.search + $(a).getAttribute('href')); route();
          });
          window.addEventListener('hashchange', route);
          route();
        })();

        """#
}
