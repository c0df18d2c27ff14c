import { pageLayout } from '../shared/page-layout.js';

export { escapeHtml, html, Html } from '../../src/html/template.js';

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1d2733;line-height:1.45}
header{background:#0b3c5d;color:#fff;padding:.6rem 1rem}header strong{font-size:1.05rem}header span{opacity:.8;margin-left:.5rem;font-size:.85rem}
main{max-width:52rem;margin:1.5rem auto;background:#fff;padding:1.25rem 1.5rem;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.35rem;margin-top:0}h2{font-size:1.1rem;margin-top:1.5rem}
label{display:block;font-weight:600;margin-top:.8rem}.hint{display:block;font-size:.8rem;color:#5b6775}
input{font:inherit;padding:.45rem .55rem;border:1px solid #9aa7b4;border-radius:4px;width:100%;max-width:18rem;box-sizing:border-box}
button{font:inherit;padding:.5rem 1rem;border-radius:4px;border:1px solid #0b3c5d;background:#0b3c5d;color:#fff;cursor:pointer;margin:.8rem .5rem 0 0}
button.secondary{background:#fff;color:#0b3c5d}form.inline{display:inline-block;margin-right:1rem;vertical-align:bottom}
form.inline input{width:8rem}
td.actions{white-space:nowrap}td.actions form.inline{margin-right:.3rem}td.actions button{margin:.1rem 0;padding:.3rem .7rem}
[role=alert]{background:#fdecea;border:1px solid #e0a39b;padding:.6rem .8rem;border-radius:4px}
.notice{background:#e8f4ea;border:1px solid #9cc9a4;padding:.6rem .8rem;border-radius:4px}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #dde3e8;vertical-align:top}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
pre{white-space:pre-wrap;word-break:break-all;font-size:.8rem;background:#f4f6f8;padding:.4rem;margin:0}
`;

/** A complete page in the shared layout: a header that says this is the emulator, then `body`. */
export const layout = pageLayout({
  style: STYLE,
  titleSuffix: 'NETOPIA emulator',
  brand: 'NETOPIA Payments emulator',
  tagline: 'sandbox · not a real payment processor',
});
