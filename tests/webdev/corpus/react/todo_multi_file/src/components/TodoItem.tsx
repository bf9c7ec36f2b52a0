import type { Todo } from '../types';

type Props = {
  todo: Todo;
  onToggle: (id: number) => void;
  onRemove: (id: number) => void;
};

export function TodoItem({ todo, onToggle, onRemove }: Props) {
  return (
    <li className="flex items-center gap-3 bg-white p-3 rounded border">
      <input type="checkbox" checked={todo.done} onChange={() => onToggle(todo.id)} />
      <span className={todo.done ? 'line-through text-gray-400 flex-1' : 'flex-1'}>{todo.title}</span>
      <button onClick={() => onRemove(todo.id)} className="text-red-500">✕</button>
    </li>
  );
}
