// Starts Swagger UI (vendored, no CDN) on the document named by #swagger-ui's data-spec-url.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // the default would send the document to an online validator
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
