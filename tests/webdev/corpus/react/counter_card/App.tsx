import React, { useState } from 'react';

interface CounterProps {
  initial?: number;
  step?: number;
}

export default function App({ initial = 0, step = 1 }: CounterProps) {
  const [count, setCount] = useState<number>(initial);

  return (
    <div className="min-h-screen flex items-center justify-center bg-gradient-to-br from-indigo-500 to-purple-600">
      <div className="bg-white rounded-2xl shadow-xl p-8 w-80 text-center">
        <h1 className="text-2xl font-bold text-gray-800 mb-4">Counter</h1>
        <p className="text-6xl font-mono text-indigo-600 mb-6" data-testid="count">{count}</p>
        <div className="flex gap-4 justify-center">
          <button
            className="px-4 py-2 rounded-lg bg-gray-200 hover:bg-gray-300"
            onClick={() => setCount((c) => c - step)}
          >
            -
          </button>
          <button
            className="px-4 py-2 rounded-lg bg-indigo-600 text-white hover:bg-indigo-700"
            onClick={() => setCount((c) => c + step)}
          >
            +
          </button>
        </div>
      </div>
    </div>
  );
}
