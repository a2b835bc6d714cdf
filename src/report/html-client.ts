// The only script in the HTML report (allowed by its hash in the CSP). It builds the sortable, filterable findings
// tables from the embedded JSON with createElement/textContent: evidence never reaches an HTML parser.
// Written as plain ES2017 in a string so the report needs no bundler and runs in any current browser.

export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('exhunt-data').textContent);
  var SEV = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
  var MAX_ROWS = 500;
  var COLS = [
    { key: 'time', label: 'Time (UTC)' },
    { key: 'severity', label: 'Severity' },
    { key: 'kind', label: 'Kind' },
    { key: 'rule', label: 'Rule' },
    { key: 'incident', label: 'Incident' },
    { key: 'ip', label: 'Client IP' },
    { key: 'summary', label: 'Summary' },
    { key: 'evidence', label: 'Evidence' },
    { key: 'source', label: 'Source' }
  ];

  // Direction controls in evidence (U+202E makes "xcod.aspx" read as a .docx) are shown by name, as in html.ts.
  var BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
  function shown(text) {
    return String(text).replace(BIDI, function (c) { return '[U+' + c.charCodeAt(0).toString(16).toUpperCase() + ']'; });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = shown(text);
    return e;
  }

  function compare(key, a, b) {
    if (key === 'severity') return SEV[a.severity] - SEV[b.severity];
    var x = a[key] === null || a[key] === undefined ? '' : String(a[key]);
    var y = b[key] === null || b[key] === undefined ? '' : String(b[key]);
    if (key === 'time') {
      if (x === '') return y === '' ? 0 : 1;
      if (y === '') return -1;
    }
    return x < y ? -1 : x > y ? 1 : 0;
  }

  function options(select, values) {
    values.forEach(function (v) {
      var o = el('option', null, v === '' ? 'all' : v);
      o.value = v;
      select.appendChild(o);
    });
  }

  function table(container, rows) {
    var state = { key: 'time', dir: 1, text: '', severity: '', kind: '' };
    var bar = el('div', 'filters');
    var input = el('input');
    input.type = 'search';
    input.placeholder = 'Filter findings (any text)';
    input.setAttribute('aria-label', 'Filter findings');
    var sev = el('select');
    sev.setAttribute('aria-label', 'Minimum severity');
    options(sev, ['', 'critical', 'high', 'medium', 'low', 'info']);
    var kinds = rows.map(function (r) { return r.kind; }).filter(function (k, i, a) { return a.indexOf(k) === i; }).sort();
    var kind = el('select');
    kind.setAttribute('aria-label', 'Kind');
    options(kind, [''].concat(kinds));
    var count = el('span', 'count');
    bar.appendChild(input);
    bar.appendChild(el('label', null, ' severity ≥ '));
    bar.appendChild(sev);
    bar.appendChild(el('label', null, ' kind '));
    bar.appendChild(kind);
    bar.appendChild(count);
    container.appendChild(bar);

    var wrap = el('div', 'tablewrap');
    var t = el('table', 'findings');
    var thead = el('thead');
    var hr = el('tr');
    var buttons = COLS.map(function (c) {
      var th = el('th');
      var b = el('button', 'sort', c.label);
      b.type = 'button';
      b.setAttribute('data-key', c.key);
      b.addEventListener('click', function () {
        state.dir = state.key === c.key ? -state.dir : c.key === 'severity' ? -1 : 1;
        state.key = c.key;
        render();
      });
      th.appendChild(b);
      hr.appendChild(th);
      return b;
    });
    thead.appendChild(hr);
    t.appendChild(thead);
    var tbody = el('tbody');
    t.appendChild(tbody);
    wrap.appendChild(t);
    container.appendChild(wrap);

    function visible(r) {
      if (state.severity && SEV[r.severity] < SEV[state.severity]) return false;
      if (state.kind && r.kind !== state.kind) return false;
      if (!state.text) return true;
      var needle = state.text.toLowerCase();
      return COLS.some(function (c) { return r[c.key] !== null && String(r[c.key]).toLowerCase().indexOf(needle) >= 0; });
    }

    function render() {
      var list = rows.filter(visible).sort(function (a, b) { return state.dir * compare(state.key, a, b) || compare('time', a, b); });
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      list.slice(0, MAX_ROWS).forEach(function (r) {
        var tr = el('tr', 'sev-' + r.severity);
        tr.id = 'finding-' + r.hostIndex + '-' + r.id;
        COLS.forEach(function (c) {
          var v = r[c.key];
          if (c.key === 'time' && v) v = v.replace('T', ' ').replace(/(\.\d+)?Z$/, 'Z');
          var td = el('td', 'col-' + c.key, v === null || v === undefined ? '' : v);
          if (c.key === 'evidence' && v) td.title = v;
          if (c.key === 'rule') td.title = r.title;
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
      count.textContent = ' ' + (list.length > MAX_ROWS ? 'showing ' + MAX_ROWS + ' of ' : '') + list.length + ' of ' + rows.length + ' findings';
      buttons.forEach(function (b) {
        var k = b.getAttribute('data-key');
        b.parentNode.setAttribute('aria-sort', k === state.key ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
      });
    }

    input.addEventListener('input', function () { state.text = input.value; render(); });
    sev.addEventListener('change', function () { state.severity = sev.value; render(); });
    kind.addEventListener('change', function () { state.kind = kind.value; render(); });
    render();
  }

  data.hosts.forEach(function (h, i) {
    var container = document.getElementById('findings-' + i);
    if (!container) return;
    if (h.findings.length === 0) {
      container.appendChild(el('p', 'muted', 'No findings.'));
      return;
    }
    table(container, h.findings.map(function (f) { f.hostIndex = i; return f; }));
  });
  document.documentElement.setAttribute('data-ready', '1');
})();
`;
