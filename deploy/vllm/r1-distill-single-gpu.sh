#!/usr/bin/env bash
# DeepSeek-R1-Distill-Qwen (dense 7B or 14B, reasoning) on ONE GPU with vLLM.
# The affordable "thinking" model: same <think> output format as R1, far smaller.
#
# Hardware (BF16 weights, 32K context):
#   DeepSeek-R1-Distill-Qwen-7B   ~15 GB weights: one 24 GB GPU (RTX 3090/4090, L4, A10) or larger
#   DeepSeek-R1-Distill-Qwen-14B  ~30 GB weights: one 40-48 GB GPU (A100 40GB, L40S, RTX 6000 Ada)
#                                 or 80 GB (H100/A100 80GB) for more concurrent requests
# On a 24 GB card shared with a desktop session, lower GPU_MEMORY_UTILIZATION or MAX_MODEL_LEN.
#
# Usage:   ./r1-distill-single-gpu.sh [extra vllm serve flags...]
# Example: MODEL=deepseek-ai/DeepSeek-R1-Distill-Qwen-14B CUDA_VISIBLE_DEVICES=1 ./r1-distill-single-gpu.sh
#
# The app then needs (one server can serve both profiles):
#   INFERENCE_BASE_URL=http://<this host>:8000/v1
#   INFERENCE_MODEL=<SERVED_MODEL_NAME>
#   INFERENCE_API_KEY=<VLLM_API_KEY>
#
# Reasoning arrives in the `reasoning` delta field (recent vLLM) or `reasoning_content` (older);
# the app reads both.
set -euo pipefail

MODEL="${MODEL:-deepseek-ai/DeepSeek-R1-Distill-Qwen-7B}"
SERVED_MODEL_NAME="${SERVED_MODEL_NAME:-$MODEL}"
HOST="${HOST:-0.0.0.0}"
PORT="${PORT:-8000}"
MAX_MODEL_LEN="${MAX_MODEL_LEN:-32768}"
GPU_MEMORY_UTILIZATION="${GPU_MEMORY_UTILIZATION:-0.90}"
VLLM_API_KEY="${VLLM_API_KEY:-}"

args=(
  --served-model-name "$SERVED_MODEL_NAME"
  --host "$HOST"
  --port "$PORT"
  --tensor-parallel-size 1
  --max-model-len "$MAX_MODEL_LEN"
  --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION"
  --reasoning-parser deepseek_r1
  --enable-prefix-caching
)

if [[ -n "$VLLM_API_KEY" ]]; then
  args+=(--api-key "$VLLM_API_KEY")
elif [[ "$HOST" != "127.0.0.1" && "$HOST" != "localhost" ]]; then
  echo "warning: serving on $HOST:$PORT without an API key; set VLLM_API_KEY" >&2
fi

exec vllm serve "$MODEL" "${args[@]}" "$@"
