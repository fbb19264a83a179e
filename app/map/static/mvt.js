/* A minimal Mapbox Vector Tile (v2) decoder: enough protobuf to read layers, features, properties and
 * polygon rings. Leaflet cannot draw vector tiles itself and its plugins are unmaintained, so the map
 * decodes the capacity tiles here and paints them on canvas. */
(function () {
  "use strict";

  const utf8 = new TextDecoder("utf-8");

  class Reader {
    constructor(bytes, start, end) {
      this.bytes = bytes;
      this.pos = start;
      this.end = end;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }

    more() {
      return this.pos < this.end;
    }

    varint() {
      let result = 0;
      let scale = 1;
      let byte;
      do {
        byte = this.bytes[this.pos++];
        result += (byte & 0x7f) * scale;
        scale *= 128;
      } while (byte >= 0x80);
      return result;
    }

    key() {
      const key = this.varint();
      return { field: Math.floor(key / 8), wire: key % 8 };
    }

    sub() {
      const length = this.varint();
      const reader = new Reader(this.bytes, this.pos, this.pos + length);
      this.pos += length;
      return reader;
    }

    string() {
      const length = this.varint();
      const text = utf8.decode(this.bytes.subarray(this.pos, this.pos + length));
      this.pos += length;
      return text;
    }

    packed() {
      const reader = this.sub();
      const values = [];
      while (reader.more()) values.push(reader.varint());
      return values;
    }

    skip(wire) {
      if (wire === 0) this.varint();
      else if (wire === 1) this.pos += 8;
      else if (wire === 2) this.pos += this.varint();
      else if (wire === 5) this.pos += 4;
      else throw new Error("unsupported protobuf wire type " + wire);
    }
  }

  const zigzag = (n) => (n % 2 === 1 ? -(n + 1) / 2 : n / 2);

  function value(reader) {
    let result = null;
    while (reader.more()) {
      const { field, wire } = reader.key();
      if (field === 1) result = reader.string();
      else if (field === 2) { result = reader.view.getFloat32(reader.pos, true); reader.pos += 4; }
      else if (field === 3) { result = reader.view.getFloat64(reader.pos, true); reader.pos += 8; }
      else if (field === 4 || field === 5) result = reader.varint();
      else if (field === 6) result = zigzag(reader.varint());
      else if (field === 7) result = reader.varint() !== 0;
      else reader.skip(wire);
    }
    return result;
  }

  function rings(commands) {
    const out = [];
    let x = 0;
    let y = 0;
    let ring = null;
    let i = 0;
    while (i < commands.length) {
      const command = commands[i++];
      const id = command & 7;
      const count = command >> 3;
      if (id === 1 || id === 2) {
        for (let k = 0; k < count; k++) {
          x += zigzag(commands[i++]);
          y += zigzag(commands[i++]);
          if (id === 1) {
            ring = [[x, y]];
            out.push(ring);
          } else {
            ring.push([x, y]);
          }
        }
      } else if (id === 7 && ring) {
        ring.push(ring[0].slice());
      }
    }
    return out;
  }

  function feature(reader, keys, values) {
    const result = { id: null, type: 0, properties: {}, rings: [] };
    let tags = [];
    let geometry = [];
    while (reader.more()) {
      const { field, wire } = reader.key();
      if (field === 1) result.id = reader.varint();
      else if (field === 2) tags = reader.packed();
      else if (field === 3) result.type = reader.varint();
      else if (field === 4) geometry = reader.packed();
      else reader.skip(wire);
    }
    for (let t = 0; t + 1 < tags.length; t += 2) result.properties[keys[tags[t]]] = values[tags[t + 1]];
    result.rings = rings(geometry);
    return result;
  }

  function layer(reader) {
    const keys = [];
    const values = [];
    const raw = [];
    const result = { name: "", extent: 4096, features: [] };
    while (reader.more()) {
      const { field, wire } = reader.key();
      if (field === 1) result.name = reader.string();
      else if (field === 2) raw.push(reader.sub());
      else if (field === 3) keys.push(reader.string());
      else if (field === 4) values.push(value(reader.sub()));
      else if (field === 5) result.extent = reader.varint();
      else reader.skip(wire);
    }
    result.features = raw.map((r) => feature(r, keys, values));
    return result;
  }

  /* Decode a tile's bytes into {layerName: {name, extent, features: [{id, type, properties, rings}]}}. */
  function decode(buffer) {
    const bytes = new Uint8Array(buffer);
    const reader = new Reader(bytes, 0, bytes.length);
    const layers = {};
    while (reader.more()) {
      const { field, wire } = reader.key();
      if (field === 3) {
        const decoded = layer(reader.sub());
        layers[decoded.name] = decoded;
      } else {
        reader.skip(wire);
      }
    }
    return layers;
  }

  window.NvrMvt = { decode };
})();
