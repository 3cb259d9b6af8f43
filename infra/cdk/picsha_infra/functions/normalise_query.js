// CloudFront Function (cloudfront-js-2.0), viewer request on /render/* and /thumbor/*.
// CloudFront builds the cache key from the request *after* this runs, so equivalent URLs
// share one cached object: parameter names lower-cased, empty values dropped, parameters
// sorted by name, and Accept reduced to what changes a `fm=auto` answer (the same reduction
// as delivery/negotiate.py: which of AVIF and WebP the client takes). Any other request gets
// a fixed Accept, so Accept never splits the cache for an explicit format.

var NEGOTIATED = ['image/avif', 'image/webp'];

function accepts(accept, mime) {
  var parts = accept.split(',');
  for (var i = 0; i < parts.length; i++) {
    var pieces = parts[i].split(';');
    if (pieces[0].trim() !== mime) continue;
    for (var j = 1; j < pieces.length; j++) {
      var param = pieces[j].replace(/\s/g, '');
      if (/^q=0(\.0*)?$/.test(param)) return false; // q=0 means "not acceptable"
    }
    return true;
  }
  return false;
}

function normaliseQuery(querystring) {
  var merged = {};
  var names = Object.keys(querystring);
  for (var i = 0; i < names.length; i++) {
    var entry = querystring[names[i]];
    var values = entry.multiValue
      ? entry.multiValue.map(function (v) { return v.value; })
      : [entry.value];
    var name = names[i].toLowerCase();
    for (var j = 0; j < values.length; j++) {
      if (values[j] === undefined || values[j] === null || values[j] === '') continue;
      if (!merged[name]) merged[name] = [];
      merged[name].push(values[j]);
    }
  }
  // Objects keep insertion order for string keys: inserting sorted names sorts the query.
  var sorted = {};
  Object.keys(merged).sort().forEach(function (name) {
    var values = merged[name];
    sorted[name] = values.length === 1
      ? { value: values[0] }
      : { value: values[0], multiValue: values.map(function (v) { return { value: v }; }) };
  });
  return sorted;
}

function normaliseAccept(querystring, headers) {
  var fm = querystring.fm ? String(querystring.fm.value).toLowerCase() : '';
  if (fm !== 'auto') return '*/*';
  var accept = headers.accept ? headers.accept.value.toLowerCase() : '';
  var taken = NEGOTIATED.filter(function (mime) { return accepts(accept, mime); });
  return taken.length ? taken.join(',') : '*/*';
}

function handler(event) {
  var request = event.request;
  request.querystring = normaliseQuery(request.querystring || {});
  request.headers.accept = { value: normaliseAccept(request.querystring, request.headers) };
  return request;
}
