/* GeoGrid API client: the one fetch wrapper the screens share (no build step; ES5 + fetch).
 *
 *   GeoGrid.api.get(url, options)         GeoGrid.api.post(url, body, options)
 *   GeoGrid.api.put(url, body, options)   GeoGrid.api.del(url, options)
 *   GeoGrid.api.request(method, url, body, options)
 *
 * Every request goes with the session cookie (same origin) and the CSRF token; a FormData body
 * is sent as multipart (photos), any other body as JSON. options.headers adds headers (the
 * reporter's X-Appeal-Token).
 *
 * The promise resolves with the answer's body (parsed JSON; null when there is none, as for a
 * 204). Any other answer rejects with one GeoGrid.ApiError, read from the one error shape of
 * every JSON endpoint (geogrid/errors.py):
 *
 *   status      the HTTP status; 0 when the server could not be reached
 *   code        "invalid" | "not_authenticated" | "forbidden" | "not_found" | "conflict" |
 *               "rate_limited" | … ; "network" when there was no answer, "not_json" when a
 *               2xx answer was not JSON (e.g. a login page after the session ended)
 *   detail      one sentence for a person ("" when the answer had none: use the screen's own)
 *   fields      {field: [messages]}
 *   problems    [GeoJSON Feature, …] (e.g. topology problems, to draw on a map)
 *   current     what a conflict (409) found: {status, version} of an appeal, {version} of a grid
 *   retryAfter  seconds to wait after a 429 (Retry-After), or null
 *
 * Use .then(onAnswer, onError): an error thrown while handling an answer then stays a
 * programming error instead of being shown as if the server had said it.
 *
 * GeoGrid.api.showErrors(root, error, options) puts each field's messages into the element
 * `.errors[data-field="<name>"]` inside `root` and everything else (messages of fields the
 * screen has no place for, or `detail`) into one general element.
 */
(function (global) {
  "use strict";

  var CODES = { 400: "invalid", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "invalid", 415: "unsupported_media_type",
    429: "rate_limited" };

  function ApiError(status, body, headers) {
    body = body && typeof body === "object" && !Array.isArray(body) ? body : {};
    this.name = "ApiError";
    this.status = status;
    this.code = typeof body.code === "string" ? body.code
      : status === 0 ? "network" : status < 400 ? "not_json"
      : CODES[status] || (status >= 500 ? "server_error" : "invalid");
    this.detail = typeof body.detail === "string" ? body.detail : "";
    this.fields = body.fields && typeof body.fields === "object" ? body.fields : {};
    this.problems = Array.isArray(body.problems) ? body.problems : [];
    this.current = body.current || null;
    var wait = headers ? parseInt(headers.get("Retry-After"), 10) : NaN;
    this.retryAfter = isNaN(wait) ? null : wait;
    this.body = body;
    this.message = this.detail || "HTTP " + status;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;
  /* Every message of one field, or of all fields, as a list of strings. */
  ApiError.prototype.messages = function (field) {
    var fields = this.fields;
    var names = field === undefined ? Object.keys(fields) : [field];
    return names.reduce(function (all, name) { return all.concat(fields[name] || []); }, []);
  };

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function readBody(response) {
    if (response.status === 204) return Promise.resolve(null);
    return response.text().then(function (text) {
      if (!text) return null;
      try { return JSON.parse(text); } catch (e) { return undefined; }  // not JSON
    });
  }

  function request(method, url, body, options) {
    options = options || {};
    var headers = { Accept: "application/json" };
    if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
    var init = { method: method, credentials: "same-origin", headers: headers };
    if (body instanceof FormData) {
      init.body = body;  // the browser sets the multipart boundary
    } else if (body !== undefined && body !== null) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    Object.keys(options.headers || {}).forEach(function (k) { headers[k] = options.headers[k]; });
    function unreachable() { throw new ApiError(0, null, null); }
    return fetch(url, init).then(function (response) {
      return readBody(response).then(function (data) {
        if (response.ok && data !== undefined) return data;
        throw new ApiError(response.status, data, response.headers);
      }, unreachable);  // the connection broke while the answer was read
    }, unreachable);
  }

  function fieldSlot(root, name) {
    var escaped = global.CSS && CSS.escape ? CSS.escape(name) : name.replace(/"/g, '\\"');
    return root.querySelector('.errors[data-field="' + escaped + '"]');
  }

  /* Clear the error elements inside `root` (and options.general). */
  function clearErrors(root, options) {
    root.querySelectorAll(".errors").forEach(function (el) { el.textContent = ""; });
    if (options && options.general) options.general.textContent = "";
  }

  /* Show `error` (an ApiError) inside `root`. options:
   *   general   the element for what has no field of its own (default: the element
   *             `.errors[data-field="non_field_errors"]` inside root)
   *   labels    {field: label} to name the fields that have no element of their own
   *   fallback  what to say when the answer says nothing (e.g. "The change was not saved.")
   *   offline   what to say when the server could not be reached
   * Returns the text put into the general element ("" when every message had a place). */
  function showErrors(root, error, options) {
    options = options || {};
    var general = options.general || fieldSlot(root, "non_field_errors");
    var labels = options.labels || {};
    clearErrors(root, options);
    var placed = false, rest = [];
    Object.keys(error.fields || {}).forEach(function (name) {
      var messages = [].concat(error.fields[name]).join(" ");
      if (name === "__all__" || name === "non_field_errors") { rest.push(messages); return; }
      var slot = fieldSlot(root, name);
      if (slot) { slot.textContent = messages; placed = true; return; }
      rest.push((labels[name] || name) + ": " + messages);
    });
    var text = rest.join(" ");
    if (!text && !placed) {
      // `detail` sums up the field messages; say it only when none of them could be shown.
      text = error.detail || (error.status === 0 && options.offline) || options.fallback || "";
    }
    if (general) general.textContent = text;
    return text;
  }

  global.GeoGrid = global.GeoGrid || {};
  global.GeoGrid.ApiError = ApiError;
  global.GeoGrid.api = {
    request: request,
    get: function (url, options) { return request("GET", url, undefined, options); },
    post: function (url, body, options) { return request("POST", url, body, options); },
    put: function (url, body, options) { return request("PUT", url, body, options); },
    del: function (url, options) { return request("DELETE", url, undefined, options); },
    showErrors: showErrors,
    clearErrors: clearErrors,
    csrfToken: csrfToken
  };
})(window);
