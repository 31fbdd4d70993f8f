// Swagger UI for /docs, from the vendored swagger-ui-dist (an external file: the page's
// Content-Security-Policy allows no inline script).
window.ui = window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  // The default validator badge loads an image from another host.
  validatorUrl: null,
  oauth2RedirectUrl: window.location.origin + "/web/vendor/swagger-ui/oauth2-redirect.html",
  presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
});
