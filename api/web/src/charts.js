// The portfolio dashboard's charts (Apache ECharts, only the parts used), on the dark theme.
// Amounts arrive in fen; the charts show yuan.

import { BarChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([PieChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const TEXT = "#dde6ee";
const MUTED = "#a9b7c4";
const CLASS_COLOURS = ["#30a46c", "#f2b134", "#f07c3a", "#e5484d", "#b3202a"];
const yuan = (minor) => Number(minor) / 100;

function chart(el) {
  return echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "canvas" });
}

function bars(el, buckets, colour, field = "outstanding") {
  const c = chart(el);
  c.setOption({
    animation: false, // drawn at once: the figures are what matter
    backgroundColor: "transparent",
    textStyle: { color: TEXT },
    tooltip: { trigger: "axis", valueFormatter: (v) => `${v.toLocaleString("zh-CN")} CNY` },
    grid: { left: 90, right: 16, top: 16, bottom: 40 },
    xAxis: { type: "category", data: buckets.map((b) => b.label), axisLabel: { color: MUTED, interval: 0, overflow: "truncate", width: 110 } },
    yAxis: { type: "value", axisLabel: { color: MUTED }, splitLine: { lineStyle: { color: "#2a3a4a" } } },
    series: [{ type: "bar", data: buckets.map((b) => yuan(b[field])), itemStyle: { color: colour } }],
  }, true);
  return c;
}

// Several series over one axis of categories, with a legend (side by side, or stacked).
function seriesBars(el, categories, series) {
  const c = chart(el);
  c.setOption({
    animation: false,
    backgroundColor: "transparent",
    textStyle: { color: TEXT },
    tooltip: { trigger: "axis", valueFormatter: (v) => `${v.toLocaleString("zh-CN")} CNY` },
    legend: { top: 0, textStyle: { color: TEXT } },
    grid: { left: 90, right: 16, top: 28, bottom: 40 },
    xAxis: { type: "category", data: categories, axisLabel: { color: MUTED, interval: 0, overflow: "truncate", width: 110 } },
    yAxis: { type: "value", axisLabel: { color: MUTED }, splitLine: { lineStyle: { color: "#2a3a4a" } } },
    series: series.map(({ name, data, colour, stack }) => ({ name, type: "bar", stack, data, itemStyle: { color: colour } })),
  }, true);
  return c;
}

// Each core's supply-chain limit beside what its chain owes.
const chainBars = (el, chains) => seriesBars(el, chains.map((x) => x.coreName || x.coreId), [
  { name: "Outstanding", data: chains.map((x) => yuan(x.outstanding)), colour: "#2bb3a3" },
  { name: "Limit", data: chains.map((x) => yuan(x.limit)), colour: "#6f7f8f" },
]);

// The forecast: principal and interest expected, stacked, by when they fall due.
const forecastBars = (el, buckets) => seriesBars(el, buckets.map((b) => b.key), [
  { name: "Principal", data: buckets.map((b) => yuan(b.principal)), colour: "#4c8dd6", stack: "due" },
  { name: "Interest", data: buckets.map((b) => yuan(b.interest)), colour: "#f2b134", stack: "due" },
]);

export function drawPortfolio(report, els) {
  const classes = chart(els.classes);
  classes.setOption({
    animation: false, // drawn at once: the figures are what matter
    backgroundColor: "transparent",
    textStyle: { color: TEXT },
    tooltip: { trigger: "item", valueFormatter: (v) => `${v.toLocaleString("zh-CN")} CNY` },
    legend: { orient: "vertical", left: 0, textStyle: { color: TEXT } },
    series: [{
      type: "pie", radius: ["40%", "70%"], center: ["65%", "50%"],
      label: { color: TEXT, formatter: "{d}%" },
      data: report.classes.map((b, i) => ({ name: b.label, value: yuan(b.outstanding), itemStyle: { color: CLASS_COLOURS[i] } })),
    }],
  }, true);
  const out = {
    classes,
    products: bars(els.products, report.byProduct, "#4c8dd6"),
    cores: bars(els.cores, report.byCore, "#2bb3a3"),
    overdue: bars(els.overdue, report.overdue.buckets, "#e5484d"),
    disbursements: bars(els.disbursements, report.flows.disbursed.byMonth, "#4c8dd6", "amount"),
    recoveries: bars(els.recoveries, report.flows.recovered.byMonth, "#30a46c", "amount"),
    purposes: bars(els.purposes, report.byPurpose, "#b48ee0"),
    chains: chainBars(els.chains, report.chains),
    forecast: forecastBars(els.forecast, report.forecast),
  };
  for (const [name, c] of Object.entries(out)) els[name].setAttribute("data-rendered", String(c.getOption().series[0].data.length));
  return out;
}

window.addEventListener("resize", () => {
  for (const el of document.querySelectorAll(".chart")) echarts.getInstanceByDom(el)?.resize();
});
