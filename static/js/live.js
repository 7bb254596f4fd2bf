/* Live status (templates/devices/_live_status.html): htmx re-reads each [data-live] block every
 * 10 s and when the page's visibility changes. This holds those reads while the page is
 * hidden, so a tab in the background costs the server nothing; on coming back, the
 * visibilitychange read brings the block up to date at once.
 *
 * htmx's own trigger filters ("every 10s [document.visibilityState=='visible']") need eval,
 * which the strict Content-Security-Policy forbids; cancelling htmx:beforeRequest does not.
 * The fragment may be included several times on a page (one per card): set up once.
 */
(function () {
  "use strict";
  if (window.liveStatusReady) {
    return;
  }
  window.liveStatusReady = true;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (!element || !element.hasAttribute || !element.hasAttribute("data-live")) {
      return;
    }
    if (document.visibilityState !== "visible") {
      event.preventDefault();
    }
  });
})();
