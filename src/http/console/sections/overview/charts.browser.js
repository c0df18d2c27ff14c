// The overview's charts, drawn with Chart.js from the data table each chart stands beside: the table is the chart's
// accessible equivalent and what a browser without script shows, so chart and table cannot disagree. Served by the
// hub at a hashed path under the console's policy (script only from the hub, no inline script or style, no eval).
// A figure says how to draw it: data-chart (bar or line), data-axis="y" for horizontal bars, data-unit (count,
// money or percent) and data-chart-label (the canvas's accessible name). Its table's header cells with
// data-series are the series; each row's first cell (data-label, else its text) is the label; data-value the numbers.
(() => {
  const Chart = window.Chart;
  if (!Chart) return;
  const COLORS = ['#135e4b', '#b35c00', '#2f4fa0', '#8a2f6b', '#5b6770'];
  Chart.defaults.animation = false;
  Chart.defaults.color = '#17212b';
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

  function readTable(table) {
    const heads = Array.from(table.tHead.rows[0].cells);
    const series = heads.map((cell, index) => ({ index, label: cell.textContent.trim(), series: cell.dataset.series })).filter((s) => s.series !== undefined);
    const labels = [];
    const values = series.map(() => []);
    for (const row of Array.from(table.tBodies[0].rows)) {
      const first = row.cells[0];
      labels.push(first.dataset.label ?? first.textContent.trim());
      series.forEach((s, k) => {
        const text = row.cells[s.index]?.dataset.value;
        values[k].push(text === undefined || text === '' ? null : Number(text));
      });
    }
    return { labels, datasets: series.map((s, k) => ({ label: s.label, data: values[k] })) };
  }

  function draw(figure) {
    const table = figure.querySelector('table');
    const box = figure.querySelector('.chart-box');
    if (!table || !box || box.querySelector('canvas')) return;
    const { labels, datasets } = readTable(table);
    const horizontal = figure.dataset.axis === 'y';
    const unit = figure.dataset.unit;
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', figure.dataset.chartLabel ?? '');
    box.appendChild(canvas);
    box.hidden = false;
    // Horizontal bars: as tall as their number needs (a CSSOM property, which the policy allows; not a style attribute).
    if (horizontal) box.style.height = `${Math.min(30, 4 + labels.length * 2.25)}rem`;
    const valueAxis = {
      beginAtZero: true,
      ...(unit === 'percent' ? { max: 100, ticks: { callback: (v) => `${v}%` } } : {}),
      ...(unit === 'count' ? { ticks: { precision: 0 } } : {}),
    };
    const line = figure.dataset.chart === 'line';
    new Chart(canvas, {
      type: line ? 'line' : 'bar',
      data: {
        labels,
        datasets: datasets.map((d, i) => ({
          ...d,
          backgroundColor: COLORS[i % COLORS.length],
          borderColor: COLORS[i % COLORS.length],
          ...(line ? { pointRadius: 2, borderWidth: 2 } : {}),
        })),
      },
      options: {
        indexAxis: horizontal ? 'y' : 'x',
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { display: datasets.length > 1 },
          tooltip: unit === 'percent' ? { callbacks: { label: (c) => `${c.dataset.label}: ${horizontal ? c.parsed.x : c.parsed.y}%` } } : {},
        },
        scales: horizontal ? { x: valueAxis } : { y: valueAxis },
      },
    });
    // The chart is drawn: its table folds away behind its summary (a click opens it again).
    const details = figure.querySelector('details');
    if (details) details.open = false;
    figure.dataset.drawn = 'true';
  }

  for (const figure of Array.from(document.querySelectorAll('figure[data-chart]'))) draw(figure);
})();
