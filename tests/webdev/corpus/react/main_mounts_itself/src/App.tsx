import { useEffect, useReducer } from 'react';

enum Phase { Work = 'work', Break = 'break' }

type State = { phase: Phase; seconds: number };
type Action = { type: 'tick' } | { type: 'reset' };

function reducer(state: State, action: Action): State {
  switch (action.type) {
    case 'tick':
      return state.seconds > 0
        ? { ...state, seconds: state.seconds - 1 }
        : { phase: state.phase === Phase.Work ? Phase.Break : Phase.Work, seconds: 300 };
    case 'reset':
      return { phase: Phase.Work, seconds: 1500 };
  }
}

function format<T extends number>(seconds: T): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

const App: React.FC = () => {
  const [state, dispatch] = useReducer(reducer, { phase: Phase.Work, seconds: 1500 });
  useEffect(() => {
    const timer = setInterval(() => dispatch({ type: 'tick' }), 1000);
    return () => clearInterval(timer);
  }, []);
  return (
    <div className="flex flex-col items-center justify-center h-screen bg-rose-100">
      <h1 className="text-xl uppercase tracking-widest text-rose-700">{state.phase}</h1>
      <p className="text-7xl font-bold text-rose-900">{format(state.seconds)}</p>
      <button className="mt-6 px-6 py-2 bg-rose-600 text-white rounded-full" onClick={() => dispatch({ type: 'reset' })}>
        Reset
      </button>
    </div>
  );
};

export default App;
