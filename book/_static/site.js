/* Course site behaviour on top of sphinx-book-theme 1.3 / pydata-sphinx-theme 0.17.
 *
 * 1. Sidebar buttons on phones (pydata-sphinx-theme #2451, sphinx-book-theme #988).
 *    Each page has two copies of the "site navigation" and "on this page" buttons: a
 *    hidden one in the theme's top navbar and the visible one in the article header.
 *    Both themes bind their click handlers with document.querySelector(".primary-toggle")
 *    (".secondary-toggle"), i.e. to the hidden copy only, so the visible buttons do
 *    nothing. Here every other copy forwards its click to the copy the themes bound.
 *    tests/test_site.py::test_theme_still_binds_hidden_toggle fails once the installed
 *    themes bind every copy; then this block is to be removed.
 *
 * 2. Search results without raw TeX. Sphinx's search summary is the textContent of
 *    the target page, where a formula's text is KaTeX's output: its TeX source (the
 *    MathML annotation) followed by every glyph twice. Formulas are shown as an
 *    ellipsis in the summary instead.
 *
 * 3. The language switch in the article header (book/_ext/site_fixes.py) is one of the
 *    theme's link buttons, which open in a new tab; the other edition of the same page
 *    opens in place instead.
 */
(function () {
  "use strict";

  function whenReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // ------------------------------------------------------------ 1. sidebar toggles
  whenReady(function () {
    ["primary-toggle", "secondary-toggle"].forEach(function (cls) {
      var buttons = Array.prototype.slice.call(document.querySelectorAll("." + cls));
      var bound = buttons[0]; // the one the themes' querySelector found
      buttons.slice(1).forEach(function (button) {
        button.addEventListener(
          "click",
          function (event) {
            event.preventDefault();
            event.stopImmediatePropagation();
            button.blur();
            bound.click();
          },
          true
        );
      });
    });
  });

  // ---------------------------------------------------- 2. search summaries, no TeX
  function patchSearch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search._courseNoTex) return;
    var original = Search.htmlToText;
    Search.htmlToText = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math, .katex").forEach(function (el) {
        el.replaceWith(doc.createTextNode(el.tagName === "DIV" ? " … " : "…"));
      });
      return original(doc.documentElement.outerHTML, anchor);
    };
    Search._courseNoTex = true;
  }
  patchSearch();
  whenReady(patchSearch);

  // ------------------------------------------------------------ 3. language switch
  whenReady(function () {
    document.querySelectorAll("a.btn-edition-switch-button").forEach(function (a) {
      a.removeAttribute("target");
      a.setAttribute("hreflang", a.closest("html").lang === "en" ? "zh-CN" : "en");
    });
  });
})();
