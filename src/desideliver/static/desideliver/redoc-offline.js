// Redoc's sidebar credit ("API docs by Redocly") loads its logo from Redocly's CDN, which the
// Content-Security-Policy blocks and an offline machine can't reach: drop that one image source
// (the text link stays). Loaded before Redoc's bundle, which creates that image.
(function () {
  const blocked = (value) => String(value).startsWith("https://cdn.redoc.ly/");
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    return name === "src" && blocked(value) ? undefined : setAttribute.call(this, name, value);
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      if (!blocked(value)) src.set.call(this, value);
    },
  });
})();
