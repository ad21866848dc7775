// Charts without inline scripts (CSP): an element with data-chart="kind" and
// data-source="<id of a json_script>" becomes an ECharts chart; a point with a link opens it.
(function () {
  "use strict";
  function build(kind, data, el) {
    if (kind === "stages") {
      return {
        tooltip: {trigger: "axis"}, grid: {left: 40, right: 10, top: 10, bottom: 60},
        xAxis: {type: "category", data: data.labels, axisLabel: {interval: 0, rotate: 30}},
        yAxis: {type: "value", minInterval: 1},
        series: [{name: el.dataset.series || "", type: "bar", data: data.counts}],
      };
    }
    if (kind === "bar") {
      var series = [];
      Object.keys(data).forEach(function (key) {
        if (key === "names" || key === "labels" || key === "links") return;
        series.push({name: el.dataset["series" + key.charAt(0).toUpperCase() + key.slice(1)] || key,
                     type: "bar", data: data[key]});
      });
      return {
        tooltip: {trigger: "axis"}, legend: {top: 0}, grid: {left: 40, right: 10, top: 30, bottom: 50},
        xAxis: {type: "category", data: data.names || data.labels, axisLabel: {interval: 0, rotate: 30}},
        yAxis: {type: "value", minInterval: 1}, series: series,
      };
    }
    if (kind === "line") {
      return {
        tooltip: {trigger: "axis"}, legend: {top: 0}, grid: {left: 70, right: 10, top: 30, bottom: 30},
        xAxis: {type: "category", data: data.labels},
        yAxis: {type: "value"},
        series: data.series.map(function (s) { return {name: s.name, type: "line", data: s.data}; }),
      };
    }
    if (kind === "funnel") {
      return {
        tooltip: {trigger: "item"},
        series: [{type: "funnel", left: "10%", width: "80%", sort: "none",
                  label: {formatter: "{b}: {c}"},
                  data: data.labels.map(function (l, i) { return {name: l, value: data.counts[i]}; })}],
      };
    }
    return null;
  }
  function draw(root) {
    if (typeof echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) return;
      var source = document.getElementById(el.dataset.source);
      if (!source) return;
      var data = JSON.parse(source.textContent);
      var option = build(el.dataset.chart, data, el);
      if (!option) return;
      var chart = echarts.init(el, null, {renderer: "svg"});
      chart.setOption(option);
      if (data.links) {
        chart.on("click", function (params) {
          var link = data.links[params.dataIndex];
          if (link) window.location.href = link;
        });
      }
      el.dataset.drawn = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
})();
