/* Nefos file browser: upload files one after another with XMLHttpRequest, showing upload progress.
   Each file is sent as the raw request body (never read into memory by the page or the server). */
(function () {
  "use strict";
  var input = document.getElementById("upload-input");
  var button = document.getElementById("upload-button");
  if (!input || !button) {
    return;
  }
  var progress = document.getElementById("upload-progress");
  var bar = progress.querySelector(".progress-bar");
  var status = document.getElementById("upload-status");

  function show(percent) {
    var value = Math.floor(percent);
    bar.style.width = value + "%";
    bar.textContent = value + "%";
    progress.setAttribute("aria-valuenow", String(value));
  }

  function send(file) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      var url = input.dataset.uploadUrl + "?name=" + encodeURIComponent(input.dataset.prefix + file.name);
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRFToken", input.dataset.csrf);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      if (file.type) {
        xhr.setRequestHeader("X-Object-Content-Type", file.type);
      }
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          show((event.loaded / event.total) * 100);
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 201) {
          resolve();
        } else {
          var message = "HTTP " + xhr.status;
          try {
            message = JSON.parse(xhr.responseText).error || message;
          } catch (ignored) {
            /* not JSON: keep the status */
          }
          reject(new Error(file.name + ": " + message));
        }
      });
      xhr.addEventListener("error", function () {
        reject(new Error(file.name + ": the connection failed"));
      });
      xhr.send(file);
    });
  }

  button.addEventListener("click", function () {
    var files = Array.prototype.slice.call(input.files);
    if (!files.length) {
      status.textContent = "Choose one or more files first.";
      return;
    }
    button.disabled = true;
    progress.classList.remove("d-none");
    var chain = Promise.resolve();
    files.forEach(function (file, index) {
      chain = chain.then(function () {
        status.textContent = "Uploading " + file.name + " (" + (index + 1) + " of " + files.length + ")";
        show(0);
        return send(file);
      });
    });
    chain.then(function () {
      show(100);
      status.textContent = "Upload complete.";
      status.classList.add("text-success");
      window.location.reload();
    }).catch(function (error) {
      status.textContent = error.message;
      status.classList.add("text-danger");
      button.disabled = false;
    });
  });
})();
