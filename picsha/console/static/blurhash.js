// BlurHash decoder (the published algorithm of blurha.sh): hash -> RGBA pixels.
// Small enough to ship here instead of fetching a library; invalid input returns null.
const DIGITS =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

function decode83(text) {
  let value = 0;
  for (const ch of text) {
    const digit = DIGITS.indexOf(ch);
    if (digit < 0) throw new Error("bad blurhash digit");
    value = value * 83 + digit;
  }
  return value;
}

const toLinear = (v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
};
const toSrgb = (v) => {
  const c = Math.max(0, Math.min(1, v));
  return c <= 0.0031308
    ? Math.round(c * 12.92 * 255 + 0.5)
    : Math.round((1.055 * Math.pow(c, 1 / 2.4) - 0.055) * 255 + 0.5);
};
const signPow = (v, e) => Math.sign(v) * Math.pow(Math.abs(v), e);

export function decodeBlurhash(hash, width, height) {
  try {
    if (typeof hash !== "string" || hash.length < 6) return null;
    const size = decode83(hash[0]);
    const nx = (size % 9) + 1;
    const ny = Math.floor(size / 9) + 1;
    if (hash.length !== 4 + 2 * nx * ny) return null;
    const maxAc = (decode83(hash[1]) + 1) / 166;
    const colors = [];
    const dc = decode83(hash.substring(2, 6));
    colors.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
    for (let i = 1; i < nx * ny; i++) {
      const v = decode83(hash.substring(4 + i * 2, 6 + i * 2));
      colors.push([
        signPow((Math.floor(v / 361) - 9) / 9, 2) * maxAc,
        signPow(((Math.floor(v / 19) % 19) - 9) / 9, 2) * maxAc,
        signPow(((v % 19) - 9) / 9, 2) * maxAc,
      ]);
    }
    const pixels = new Uint8ClampedArray(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let r = 0, g = 0, b = 0;
        for (let j = 0; j < ny; j++) {
          for (let i = 0; i < nx; i++) {
            const basis = Math.cos((Math.PI * x * i) / width) * Math.cos((Math.PI * y * j) / height);
            const c = colors[i + j * nx];
            r += c[0] * basis; g += c[1] * basis; b += c[2] * basis;
          }
        }
        const p = 4 * (x + y * width);
        pixels[p] = toSrgb(r); pixels[p + 1] = toSrgb(g); pixels[p + 2] = toSrgb(b); pixels[p + 3] = 255;
      }
    }
    return pixels;
  } catch {
    return null;
  }
}
