/* Nefos images page: upload an image file as the raw request body with XMLHttpRequest, showing
   progress (the file is never read into memory by the page or the server). */
(function () {
  "use strict";
  var form = document.getElementById("image-upload-form");
  if (!form) {
    return;
  }
  var input = document.getElementById("image-file");
  var button = document.getElementById("image-upload-button");
  var progress = document.getElementById("image-upload-progress");
  var bar = progress.querySelector(".progress-bar");
  var status = document.getElementById("image-upload-status");

  function show(percent) {
    var value = Math.floor(percent);
    bar.style.width = value + "%";
    bar.textContent = value + "%";
    progress.setAttribute("aria-valuenow", String(value));
  }

  function fail(message) {
    status.textContent = message;
    status.classList.add("text-danger");
    button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = input.files[0];
    if (!file) {
      status.textContent = "Choose a file first.";
      return;
    }
    var params = new URLSearchParams();
    ["name", "disk_format", "container_format"].forEach(function (field) {
      params.set(field, form.elements[field].value);
    });
    button.disabled = true;
    status.classList.remove("text-danger");
    status.textContent = "Uploading " + file.name;
    progress.classList.remove("d-none");
    show(0);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.uploadUrl + "?" + params.toString());
    xhr.setRequestHeader("X-CSRFToken", form.dataset.csrf);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        show((e.loaded / e.total) * 100);
      }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 201) {
        show(100);
        status.textContent = "Upload complete.";
        status.classList.add("text-success");
        window.location.reload();
        return;
      }
      var message = "HTTP " + xhr.status;
      try {
        message = JSON.parse(xhr.responseText).error || message;
      } catch (ignored) {
        /* not JSON: keep the status */
      }
      fail(message);
    });
    xhr.addEventListener("error", function () {
      fail("The connection failed.");
    });
    xhr.send(file);
  });
})();
