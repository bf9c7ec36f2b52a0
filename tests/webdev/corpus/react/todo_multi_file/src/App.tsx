import { useState } from 'react';
import { TodoItem } from './components/TodoItem';
import { useTodos } from '@/hooks/useTodos';
import type { Todo } from './types';
import './index.css';

export default function App() {
  const { todos, add, toggle, remove } = useTodos([
    { id: 1, title: 'Write the harness', done: true },
    { id: 2, title: 'Run it in Chromium', done: false },
  ]);
  const [draft, setDraft] = useState('');

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    if (draft.trim()) add(draft.trim());
    setDraft('');
  };

  return (
    <main className="max-w-md mx-auto mt-10 p-6 bg-slate-50 rounded-xl shadow">
      <h1 className="text-3xl font-semibold mb-4 app-title">Todos</h1>
      <form onSubmit={submit} className="flex gap-2 mb-4">
        <input
          className="flex-1 border rounded px-3 py-2"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder="What needs doing?"
        />
        <button className="bg-emerald-600 text-white px-4 rounded">Add</button>
      </form>
      <ul className="space-y-2">
        {todos.map((todo: Todo) => (
          <TodoItem key={todo.id} todo={todo} onToggle={toggle} onRemove={remove} />
        ))}
      </ul>
    </main>
  );
}
