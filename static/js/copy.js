/* "Copy" buttons: <button type="button" data-copy="ID" data-copy-status="ID" hidden>.
 *
 * The button stays hidden without JavaScript; the text to copy is user-select: all in app.css,
 * so one tap or click selects all of it. With JavaScript the button appears and copies the
 * text (the Clipboard API where the page is a secure context, else the older execCommand);
 * when both fail, it selects the text and says how to copy it.
 */
(function () {
  "use strict";

  function selectAll(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyBySelecting(element) {
    selectAll(element);
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function copy(element) {
    var text = element.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () { return true; },
        function () { return copyBySelecting(element); }
      );
    }
    return Promise.resolve(copyBySelecting(element));
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copyStatus || "");
    if (!target) {
      return;
    }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(target).then(function (copied) {
        if (copied) {
          button.textContent = "Copied";
          window.setTimeout(function () { button.textContent = label; }, 2000);
        } else {
          selectAll(target);
        }
        if (status) {
          status.textContent = copied
            ? "The link is copied. Paste it into a message to them."
            : "The link is selected: copy it with your device's Copy command.";
        }
      });
    });
  });
})();
