# The defended inference server: Fastify + onnxruntime-node, serving models/ through randomized smoothing.
#   docker build -f docker/server.Dockerfile -t rs-arena-server .
# Node 24: a supported LTS line (maintenance LTS until April 2028; Node 20 reached end of life in April 2026).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    ONNXRUNTIME_NODE_INSTALL=skip \
    HOST=0.0.0.0 \
    PORT=8080
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY client/package.json client/
RUN npm ci --omit=dev --workspace=@rs-arena/server --no-audit --no-fund && npm cache clean --force
COPY shared/src shared/src
# The noise generator (WebAssembly) the smoothing draws its Gaussian samples from.
COPY shared/native/noise.wasm shared/native/
COPY server/src server/src
COPY server/config server/config
COPY models/manifest.json models/*.onnx models/
COPY models/data models/data
# External (ImageNet) models are mounted here; see models/README.md.
ENV RS_ARENA_IMAGENET_DIR=/app/models/imagenet
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# TypeScript sources through tsx, the workspace packages resolved to theirs ("rs-arena-source").
# node is the only process: SIGTERM from `docker stop` reaches the server directly.
CMD ["node", "--conditions=rs-arena-source", "--import", "tsx", "server/src/main.ts"]
