// Turns the chapters' ```mermaid blocks (mdBook emits them as <code class="language-mermaid">)
// into diagrams. mermaid.min.js is vendored next to this file (see README.md here).
document.addEventListener("DOMContentLoaded", function () {
  if (typeof mermaid === "undefined") {
    return;
  }
  document.querySelectorAll("code.language-mermaid").forEach(function (code) {
    var div = document.createElement("div");
    div.className = "mermaid";
    div.textContent = code.textContent;
    code.parentElement.replaceWith(div);
  });
  var dark = ["coal", "navy", "ayu"].some(function (t) {
    return document.documentElement.classList.contains(t);
  });
  mermaid.initialize({ startOnLoad: false, theme: dark ? "dark" : "default" });
  mermaid.run();
});
