// The visitor statistics chart: data from the page's json_script, series names from data-*.
(function () {
  "use strict";
  const element = document.getElementById("chart");
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const chart = echarts.init(element);
  chart.setOption({
    tooltip: {trigger: "axis"}, legend: {},
    xAxis: {type: "category", data: data.keys}, yAxis: {type: "value", minInterval: 1},
    series: [
      {name: element.dataset.labelNew, type: "bar", stack: "v", data: data.new},
      {name: element.dataset.labelReturning, type: "bar", stack: "v", data: data.returning},
      {name: element.dataset.labelCalls, type: "bar", data: data.calls},
    ],
  });
  window.addEventListener("resize", () => chart.resize());
})();
