// The pipeline's drag and drop: dropping a deal card on another stage moves it (htmx POST).
(function () {
  "use strict";
  function kanban() {
    const board = document.getElementById("pipeline");
    if (!board) return;
    board.querySelectorAll(".kanban-cards").forEach((list) => {
      if (list._sortable) return;
      list._sortable = Sortable.create(list, {
        group: "deals", animation: 120, draggable: ".deal-card",
        onEnd: (event) => {
          if (event.from === event.to) return;
          htmx.ajax("POST", event.item.dataset.moveUrl, {
            target: "#pipeline", swap: "innerHTML",
            values: {stage: event.to.dataset.stage, mine: board.dataset.mine},
          });
        },
      });
    });
  }
  document.addEventListener("DOMContentLoaded", kanban);
  document.addEventListener("htmx:afterSwap", kanban);
})();
