// The language switch in the page header: a link from every page to its twin in the other edition.
// The English book is built into target/book/ and the Simplified Chinese one into target/book/zh-CN/
// (`make book-check`), so a page's twin has the same relative path under the other root. The page
// knows its own depth from mdBook's `path_to_root` and its language from <html lang>. Headings keep
// their English anchors in the zh-CN edition (po/README.md), so the link keeps the #fragment too.
// `mdbook serve` serves one edition only, so there the link leads to a page that is not served.
(function () {
  "use strict";
  var ZH_DIR = "zh-CN/";

  function twinHref() {
    var root = typeof path_to_root === "string" ? path_to_root : "";
    var depth = (root.match(/\.\.\//g) || []).length;
    var parts = window.location.pathname.split("/");
    var page = parts.slice(Math.max(parts.length - 1 - depth, 0)).join("/");
    if (page === "" || page.slice(-1) === "/") {
      page += "index.html";
    }
    var zh = document.documentElement.lang === "zh-CN";
    var target = zh ? root + "../" + page : root + ZH_DIR + page;
    return target + window.location.hash;
  }

  function addSwitch() {
    var buttons = document.querySelector(".right-buttons");
    if (!buttons || document.getElementById("language-switch")) {
      return;
    }
    var zh = document.documentElement.lang === "zh-CN";
    var link = document.createElement("a");
    link.id = "language-switch";
    link.href = twinHref();
    link.lang = zh ? "en" : "zh-CN";
    link.title = zh ? "Read this page in English" : "阅读本页的简体中文版";
    link.setAttribute("aria-label", link.title);
    link.textContent = zh ? "English" : "中文";
    link.style.fontSize = "1.4rem";
    link.style.padding = "0 0.5rem";
    link.style.textDecoration = "none";
    // The reader may have scrolled to another heading since the page loaded: keep that #fragment.
    link.addEventListener("click", function () {
      link.href = twinHref();
    });
    buttons.insertBefore(link, buttons.firstChild);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", addSwitch);
  } else {
    addSwitch();
  }
})();
