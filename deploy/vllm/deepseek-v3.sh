#!/usr/bin/env bash
# DeepSeek-V3 (671B MoE, 37B active; non-reasoning chat model) on vLLM -- the "fast" profile.
#
# Hardware: same as DeepSeek-R1 (same architecture, FP8 checkpoint of ~690 GB): one node with
# 8x H200 141 GB (or 8x B200, 8x H20 96 GB); 8x H100/A100 80 GB is not enough on its own, use two
# such nodes (tensor parallel 8 x pipeline parallel 2). Running R1 and V3 side by side therefore
# takes two such nodes (16 GPUs).
#
# Usage:   ./deepseek-v3.sh [extra vllm serve flags...]
# Example: PORT=8001 VLLM_API_KEY=... ./deepseek-v3.sh
#
# The app then needs:
#   FAST_BASE_URL=http://<this host>:8000/v1
#   FAST_MODEL=deepseek-ai/DeepSeek-V3                 (= SERVED_MODEL_NAME)
#   INFERENCE_API_KEY=<VLLM_API_KEY>
#
# No --reasoning-parser: V3 does not emit a separate chain of thought.
set -euo pipefail

MODEL="${MODEL:-deepseek-ai/DeepSeek-V3}"            # or deepseek-ai/DeepSeek-V3-0324
SERVED_MODEL_NAME="${SERVED_MODEL_NAME:-deepseek-ai/DeepSeek-V3}"
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-8000}"
TENSOR_PARALLEL_SIZE="${TENSOR_PARALLEL_SIZE:-8}"
MAX_MODEL_LEN="${MAX_MODEL_LEN:-65536}"
GPU_MEMORY_UTILIZATION="${GPU_MEMORY_UTILIZATION:-0.92}"
VLLM_API_KEY="${VLLM_API_KEY:-}"

args=(
  --served-model-name "$SERVED_MODEL_NAME"
  --host "$HOST"
  --port "$PORT"
  --tensor-parallel-size "$TENSOR_PARALLEL_SIZE"
  --max-model-len "$MAX_MODEL_LEN"
  --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION"
  --enable-prefix-caching
  --trust-remote-code
)

if [[ -n "$VLLM_API_KEY" ]]; then
  args+=(--api-key "$VLLM_API_KEY")
elif [[ "$HOST" != "127.0.0.1" && "$HOST" != "localhost" ]]; then
  echo "warning: serving on $HOST:$PORT without an API key; set VLLM_API_KEY" >&2
fi

exec vllm serve "$MODEL" "${args[@]}" "$@"
