# The attacker: rs-arena's CLI, which reaches the server only over HTTP (no model, no server code used).
#   docker build -f docker/client.Dockerfile -t rs-arena-client .
#   docker run --rm rs-arena-client attack --endpoint http://server:8080 --key KEY --deployment fmnist-cnn-rs025
FROM node:24-bookworm-slim
WORKDIR /app
# The client workspace depends on @rs-arena/shared only (no server code, no onnxruntime); the lockfile
# still names every workspace, so their package.json files come along. The onnxruntime setting is
# inert here, kept so that no install in this repository ever downloads CUDA.
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY client/package.json client/
RUN npm ci --omit=dev --workspace=@rs-arena/client --no-audit --no-fund && npm cache clean --force
COPY shared/src shared/src
COPY client/src client/src
COPY client/bin client/bin
# The font every figure is drawn and rasterised with (client/src/report/fonts.ts).
COPY client/assets client/assets
# The shipped test images (--images sample) and the manifest that names them.
COPY models/manifest.json models/
COPY models/data models/data
# Owned by node so the results volume (a named volume takes this owner when first mounted) is writable.
RUN mkdir -p /results && chown node /results
USER node
VOLUME /results
ENTRYPOINT ["node", "client/bin/rs-arena.mjs"]
CMD ["attack", "--help"]
