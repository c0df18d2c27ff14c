import { pageLayout } from '../shared/page-layout.js';

export { escapeHtml, html, Html } from '../../src/html/template.js';

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f3f2fb;color:#1b1a33;line-height:1.45}
header{background:#2b1f7a;color:#fff;padding:.6rem 1rem}header strong{font-size:1.05rem}header span{opacity:.8;margin-left:.5rem;font-size:.85rem}
main{max-width:36rem;margin:1.5rem auto;background:#fff;padding:1.25rem 1.5rem;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.35rem;margin-top:0}fieldset{border:1px solid #c9c6e6;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
legend{font-weight:600;padding:0 .3rem}.bank{display:flex;align-items:center;gap:.6rem;padding:.45rem 0}.bank input{width:1.1rem;height:1.1rem}
.country{color:#5c5a7a;font-size:.85rem}
button{font:inherit;padding:.55rem 1.1rem;border-radius:6px;border:1px solid #2b1f7a;background:#2b1f7a;color:#fff;cursor:pointer;margin:.6rem .5rem 0 0}
button.secondary{background:#fff;color:#2b1f7a}
[role=alert]{background:#fdecea;border:1px solid #e0a39b;padding:.6rem .8rem;border-radius:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
`;

/** A complete page in the sandbox's layout: a header that says this is the emulator, then `body`. */
export const layout = pageLayout({ style: STYLE, titleSuffix: 'Volt sandbox', brand: 'Volt checkout', tagline: 'sandbox emulator · no real bank is involved' });
