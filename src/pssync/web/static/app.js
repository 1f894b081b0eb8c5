// Draws the server-built plotly figures and turns a click on a forecast bar into a drill-down.
// Figures arrive as JSON in <script type="application/json"> blocks, never as inline code, so
// the page works under a Content-Security-Policy without 'unsafe-inline' scripts.
"use strict";

function figureFor(el) {
  const source = document.getElementById(el.dataset.figure);
  return source ? JSON.parse(source.textContent) : null;
}

function drillUrl(el, point) {
  const [month, component] = point.customdata || [];
  if (!month) return null;
  const params = new URLSearchParams(JSON.parse(el.dataset.filters || "{}"));
  params.set("month", month);
  params.set("component", component);
  return el.dataset.drill + "?" + params.toString();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll("[data-figure]")) {
    const figure = figureFor(el);
    if (!figure || typeof Plotly === "undefined") continue;
    Plotly.newPlot(el, figure.data, figure.layout, { responsive: true, displaylogo: false });
    if (el.dataset.drill) {
      el.on("plotly_click", (event) => {
        const url = event.points && drillUrl(el, event.points[0]);
        if (url) window.location.assign(url);
      });
    }
  }
});
