"""Read a GGUF file back (header, metadata, tensors dequantized to float32) for --eval."""
import struct

import numpy as np

_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class _Reader:
    def __init__(self, buf):
        self.b, self.o = buf, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.o)[0]
        self.o += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.b[self.o:self.o + n].decode("utf-8")
        self.o += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            it, n = self.take("<I"), self.take("<Q")
            return [self.value(it) for _ in range(n)]
        return self.take(_SCALAR[t])


def _dequant(t, raw, n):
    if t == 0:
        return np.frombuffer(raw, dtype="<f4", count=n).copy()
    if t == 1:
        return np.frombuffer(raw, dtype="<f2", count=n).astype(np.float32)
    if t == 8:  # Q8_0: f16 scale + 32 int8 per block
        blocks = np.frombuffer(raw, dtype=np.uint8, count=n // 32 * 34).reshape(-1, 34)
        d = blocks[:, :2].copy().view("<f2").astype(np.float32)
        q = blocks[:, 2:].copy().view(np.int8).astype(np.float32)
        return (q * d).reshape(-1)
    raise ValueError(f"tensor type {t} is not supported by this reader")


_BYTES = {0: lambda n: 4 * n, 1: lambda n: 2 * n, 8: lambda n: n // 32 * 34}


def read_gguf(path):
    """Returns (metadata dict, {name: (np.float32 array shaped ne[::-1], ggml type, ne)})."""
    with open(path, "rb") as f:
        buf = f.read()
    r = _Reader(buf)
    if buf[:4] != b"GGUF":
        raise ValueError(f"{path} is not a GGUF file")
    r.o = 4
    version, n_t, n_kv = r.take("<I"), r.take("<Q"), r.take("<Q")
    if version != 3:
        raise ValueError(f"GGUF version {version} is not supported")
    meta = {}
    for _ in range(n_kv):
        k = r.string()
        meta[k] = r.value(r.take("<I"))
    infos = []
    for _ in range(n_t):
        name = r.string()
        nd = r.take("<I")
        ne = [r.take("<Q") for _ in range(nd)]
        infos.append((name, ne, r.take("<I"), r.take("<Q")))
    align = meta.get("general.alignment", 32)
    base = (r.o + align - 1) // align * align
    tensors = {}
    for name, ne, t, off in infos:
        n = int(np.prod(ne))
        raw = buf[base + off:base + off + _BYTES[t](n)]
        tensors[name] = (_dequant(t, raw, n).reshape(list(reversed(ne))), t, ne)
    return meta, tensors
