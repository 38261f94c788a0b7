// The model page's form: send the textarea to the model's invocations URL, show the answer.
// Everything the server or the model sends back is written with textContent, never as HTML.
"use strict";
(function () {
  function show(section, status, text) {
    section.querySelector(".status").textContent = status;
    var out = section.querySelector(".output");
    try {
      out.textContent = JSON.stringify(JSON.parse(text), null, 2);
    } catch (e) {
      out.textContent = text;
    }
    section.querySelector(".answer").hidden = false;
  }

  function send(section, form) {
    var type = form.elements.content_type.value;
    var started = performance.now();
    section.querySelector(".status").textContent = "sending...";
    fetch(form.getAttribute("action"), {
      method: "POST",
      headers: { "Content-Type": type },
      body: form.elements.body.value,
    })
      .then(function (response) {
        return response.text().then(function (text) {
          var ms = Math.round(performance.now() - started);
          show(section, response.status + " " + response.statusText + " \u00b7 " + ms + " ms", text);
          section.dataset.lastStatus = String(response.status);
        });
      })
      .catch(function (error) {
        show(section, "request failed", String(error));
        section.dataset.lastStatus = "failed";
      });
  }

  document.querySelectorAll(".origin").forEach(function (node) {
    node.textContent = window.location.origin;
  });
  document.querySelectorAll("section.model").forEach(function (section) {
    var form = section.querySelector("form.try");
    var select = form.elements.content_type;
    select.addEventListener("change", function () {
      var example = select.selectedOptions[0].dataset.example;
      if (example !== undefined) form.elements.body.value = example;
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(section, form);
    });
    var copy = section.querySelector("button.copy");
    if (copy) {
      copy.addEventListener("click", function () {
        var text = section.querySelector(".curl").textContent;
        if (navigator.clipboard) {
          navigator.clipboard.writeText(text).then(function () {
            copy.textContent = "Copied";
          }, function () {
            copy.textContent = "Select and copy";
          });
        } else {
          window.getSelection().selectAllChildren(section.querySelector(".curl"));
        }
      });
    }
  });
})();
